-- A second factor for built-in staff accounts (see SQLite migration 0018).
ALTER TABLE staff ADD COLUMN second_factor TEXT NOT NULL DEFAULT 'required'
    CHECK (second_factor IN ('required', 'off'));
ALTER TABLE staff ADD COLUMN totp_secret BYTEA;
ALTER TABLE staff ADD COLUMN totp_confirmed_at TEXT;
ALTER TABLE staff ADD COLUMN totp_last_step BIGINT;
ALTER TABLE staff ADD COLUMN setup_code_hash BYTEA;
ALTER TABLE staff ADD COLUMN setup_code_expires_at TEXT;
ALTER TABLE staff ADD COLUMN code_failures BIGINT NOT NULL DEFAULT 0;

CREATE TABLE staff_recovery_codes (
    staff_id  TEXT NOT NULL REFERENCES staff(id),
    code_hash BYTEA NOT NULL,
    used_at   TEXT,
    PRIMARY KEY (staff_id, code_hash)
);
