-- The server's part of a PIN where the device keeps its secret in a file, not in a keychain
-- (an oblivious PRF, RFC 9497): one key per device, the hash of the token that proves a try
-- comes from the device's own folder, the tries since the device last got a token, and when
-- too many tries locked it. No key: the device checks its PIN on its own (keychain).
ALTER TABLE devices ADD COLUMN pin_key BLOB;
ALTER TABLE devices ADD COLUMN pin_token_hash BLOB;
ALTER TABLE devices ADD COLUMN pin_tries INTEGER NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN pin_locked_at TEXT;
