-- sealcam-server metadata, PostgreSQL. Append-only: never edit a released migration.
-- Ids are UUIDs; times are Unix seconds; hashes are raw bytes.

CREATE TABLE accounts (
    id              UUID PRIMARY KEY,
    name            TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    key_bundle      BYTEA,
    key_bundle_sha  BYTEA,
    viewers         BYTEA,
    viewers_sha     BYTEA
);

-- Enrollment ('enroll'), device link ('link') and pairing claim ('claim') tokens.
CREATE TABLE one_time_tokens (
    token_hash  BYTEA PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('enroll', 'link', 'claim')),
    account_id  UUID NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    expires_at  BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX one_time_tokens_expiry ON one_time_tokens(expires_at);

CREATE TABLE devices (
    id          UUID PRIMARY KEY,
    account_id  UUID NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    token_hash  BYTEA NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL
);
CREATE INDEX devices_account ON devices(account_id);

CREATE TABLE cameras (
    id                 UUID PRIMARY KEY,
    owner_id           UUID NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    token_hash         BYTEA NOT NULL UNIQUE,
    status             TEXT NOT NULL CHECK (status IN ('pending', 'active')),
    device_public_key  TEXT NOT NULL,
    pairing_proof      TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    retention_days     BIGINT,
    set_epoch          BIGINT,
    set_data           BYTEA
);
CREATE INDEX cameras_owner ON cameras(owner_id);
CREATE INDEX cameras_retention ON cameras(id) WHERE retention_days IS NOT NULL;

CREATE TABLE shares (
    camera_id   UUID NOT NULL REFERENCES cameras(id) ON DELETE CASCADE,
    account_id  UUID NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (camera_id, account_id)
);
CREATE INDEX shares_account ON shares(account_id);

CREATE TABLE events (
    id           UUID PRIMARY KEY,
    camera_id    UUID NOT NULL REFERENCES cameras(id) ON DELETE CASCADE,
    captured_at  BIGINT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX events_camera_time ON events(camera_id, captured_at DESC, id DESC);

CREATE TABLE parts (
    event_id        UUID NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL CHECK (kind IN ('thumbnail', 'clip', 'record')),
    header_key      TEXT NOT NULL UNIQUE,
    header_size     BIGINT NOT NULL,
    header_sha256   BYTEA NOT NULL,
    payload_key     TEXT NOT NULL UNIQUE,
    payload_size    BIGINT NOT NULL,
    payload_sha256  BYTEA NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (event_id, kind)
);
