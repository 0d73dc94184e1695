-- The orphan sweep's tombstones. Before the sweep deletes a blob no part
-- names, it records the key here in the same write transaction that checks
-- no part names it; recording a part whose blob key is here fails. So a slow
-- upload that commits after the sweep chose its blob gets an error (and the
-- camera retries) instead of an acknowledged part without its bytes, on any
-- number of replicas, whatever the clocks say. Keys are never reused.
CREATE TABLE doomed_blobs (
    key        TEXT PRIMARY KEY NOT NULL,
    doomed_at  INTEGER NOT NULL
) STRICT;
