-- Metadata privacy (S9). Append-only: never edit a released migration.
--
-- The server keeps only coarse times: events' and parts' upload times are
-- rounded down to the minute, like capture times always were (the server's
-- default `time_granularity_secs`; later uploads use the configured value).
UPDATE events SET created_at = created_at - (created_at % 60);
UPDATE parts SET created_at = created_at - (created_at % 60);

-- Device names ("Alice's iPhone") live in the sealed owner record; clients
-- since this release send one label for every device. Names stored before
-- are replaced by it. The recovery device is known by its role.
UPDATE devices SET name = 'device';

-- Viewer keys: clients since this release send a commitment to the key
-- (`vkc1…`, salted with the account id) where the server compares keys; the
-- server never needed the key itself. Keys stored before are dropped: a
-- device's is only ever compared at enrollment, and an unused link token
-- bound to a key is withdrawn (the owner approves the device again).
UPDATE devices SET viewer_key = NULL;
DELETE FROM one_time_tokens WHERE viewer_key IS NOT NULL;

-- A camera's set key statement (`age1… <signature>`, S9): made and signed by
-- the camera, published with PUT /v1/camera/set-key, read by its owner with
-- the camera list, who verifies it and seals recipient sets to it. Opaque
-- text: the server neither parses nor verifies it. NULL until published.
ALTER TABLE cameras ADD COLUMN set_key TEXT;
