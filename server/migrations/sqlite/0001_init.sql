-- sealcam-server metadata, SQLite. Append-only: never edit a released migration.
-- Ids are UUIDs in text form; times are Unix seconds; hashes are raw bytes.

CREATE TABLE accounts (
    id              TEXT PRIMARY KEY NOT NULL,
    name            TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    key_bundle      BLOB,
    key_bundle_sha  BLOB,
    viewers         BLOB,
    viewers_sha     BLOB
) STRICT;

-- Enrollment ('enroll'), device link ('link') and pairing claim ('claim') tokens.
CREATE TABLE one_time_tokens (
    token_hash  BLOB PRIMARY KEY NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('enroll', 'link', 'claim')),
    account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    expires_at  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE devices (
    id          TEXT PRIMARY KEY NOT NULL,
    account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    token_hash  BLOB NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX devices_account ON devices(account_id);

CREATE TABLE cameras (
    id                 TEXT PRIMARY KEY NOT NULL,
    owner_id           TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    token_hash         BLOB NOT NULL UNIQUE,
    status             TEXT NOT NULL CHECK (status IN ('pending', 'active')),
    device_public_key  TEXT NOT NULL,
    pairing_proof      TEXT NOT NULL,
    created_at         INTEGER NOT NULL,
    retention_days     INTEGER,
    set_epoch          INTEGER,
    set_data           BLOB
) STRICT;
CREATE INDEX cameras_owner ON cameras(owner_id);

CREATE TABLE shares (
    camera_id   TEXT NOT NULL REFERENCES cameras(id) ON DELETE CASCADE,
    account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (camera_id, account_id)
) STRICT;
CREATE INDEX shares_account ON shares(account_id);

CREATE TABLE events (
    id           TEXT PRIMARY KEY NOT NULL,
    camera_id    TEXT NOT NULL REFERENCES cameras(id) ON DELETE CASCADE,
    captured_at  INTEGER NOT NULL,
    created_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX events_camera_time ON events(camera_id, captured_at DESC, id DESC);

CREATE TABLE parts (
    event_id        TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL CHECK (kind IN ('thumbnail', 'clip', 'record')),
    header_key      TEXT NOT NULL UNIQUE,
    header_size     INTEGER NOT NULL,
    header_sha256   BLOB NOT NULL,
    payload_key     TEXT NOT NULL UNIQUE,
    payload_size    INTEGER NOT NULL,
    payload_sha256  BLOB NOT NULL,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (event_id, kind)
) STRICT;
