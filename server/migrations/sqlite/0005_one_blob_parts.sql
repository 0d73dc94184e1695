-- One blob per part. Append-only: never edit a released migration.
--
-- A part uploaded since this release is stored as one blob, header ‖
-- payload, as the camera sent it: `header_key` and `payload_key` name the
-- same blob and the payload starts at `payload_offset`. A re-wrap writes
-- the new header as a blob of its own and leaves the payload where it is,
-- so the offset is kept, not derived from the header's size. Parts stored
-- before are two blobs, the payload at offset 0: the default.
ALTER TABLE parts ADD COLUMN payload_offset INTEGER NOT NULL DEFAULT 0;
