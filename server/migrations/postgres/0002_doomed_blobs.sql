-- The orphan sweep's tombstones (see the SQLite migration of the same number).
-- The sweep and the recording of a part serialise on a transaction-scoped
-- advisory lock per blob key, so exactly one of them wins.
CREATE TABLE doomed_blobs (
    key        TEXT PRIMARY KEY,
    doomed_at  BIGINT NOT NULL
);
