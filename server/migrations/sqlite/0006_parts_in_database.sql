-- Small parts kept in the database. Append-only: never edit a released
-- migration.
--
-- A part of at most `storage.in_database_max_bytes` (header ‖ payload:
-- thumbnails, event records) is stored here instead of in the blob store,
-- under a key of its own namespace (`db/…`, never a blob store key): an
-- upload is one more row in the group commit, its fsync shared with the
-- rows around it, and a download reads the bytes with the row that
-- authorises it. The part's `payload_key` names the row; deleting the part
-- deletes it, by whatever path (an event, a camera, an account, retention).
-- A re-wrap writes its new header to the blob store and leaves this row.
CREATE TABLE part_bytes (
    key    TEXT PRIMARY KEY NOT NULL REFERENCES parts(payload_key) ON DELETE CASCADE,
    bytes  BLOB NOT NULL
) STRICT;
