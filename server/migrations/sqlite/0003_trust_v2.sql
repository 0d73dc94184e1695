-- Owner trust v2. Append-only: never edit a released migration.

-- The account key log: one more opaque record, like the key bundle (written
-- with the same If-Match / If-None-Match rules; the server never reads it).
ALTER TABLE accounts ADD COLUMN key_log BLOB;
ALTER TABLE accounts ADD COLUMN key_log_sha BLOB;

-- A device is an ordinary viewer or the account's one recovery device (the
-- credential derived from the owner's recovery key), and may name the viewer
-- key it enrolled with.
ALTER TABLE devices ADD COLUMN role TEXT NOT NULL DEFAULT 'viewer'
    CHECK (role IN ('viewer', 'recovery'));
ALTER TABLE devices ADD COLUMN viewer_key TEXT;

-- A link token may be bound to the viewer key of the device it will enroll.
ALTER TABLE one_time_tokens ADD COLUMN viewer_key TEXT;

-- Before this migration the recovery device was only a name: `sealcam init`
-- enrolls the first device, then at once registers the recovery credential
-- (PUT /v1/account/recovery-credential), which created a device named
-- 'recovery key'. A device linked later may carry the same name, so per
-- account only the OLDEST device of that name becomes the recovery device
-- (created_at, then insertion order for devices of the same second).
UPDATE devices SET role = 'recovery'
WHERE name = 'recovery key'
  AND NOT EXISTS (
      SELECT 1 FROM devices older
      WHERE older.account_id = devices.account_id
        AND older.name = 'recovery key'
        AND (older.created_at < devices.created_at
             OR (older.created_at = devices.created_at AND older.rowid < devices.rowid)));

-- At most one recovery device per account.
CREATE UNIQUE INDEX devices_one_recovery ON devices(account_id) WHERE role = 'recovery';
