-- Link and pairing-claim tokens belong to the device that made them.
-- Append-only: never edit a released migration.
--
-- A device's link and claim tokens are deleted with the device: one it
-- made a moment before its removal (after the revocation withdrew the
-- account's link tokens, before it deleted the device) no longer enrolls a
-- new device or registers a camera for it. Enrollment tokens (made by the
-- operator) and tokens made before this migration name no device
-- (`created_by` NULL) and expire as before.
ALTER TABLE one_time_tokens ADD COLUMN created_by UUID REFERENCES devices(id) ON DELETE CASCADE;
