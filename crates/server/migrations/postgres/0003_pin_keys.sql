-- The server's part of a PIN where the device keeps its secret in a file (see the SQLite
-- migration 0010 for the why).
ALTER TABLE devices ADD COLUMN pin_key BYTEA;
ALTER TABLE devices ADD COLUMN pin_token_hash BYTEA;
ALTER TABLE devices ADD COLUMN pin_tries BIGINT NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN pin_locked_at TEXT;
