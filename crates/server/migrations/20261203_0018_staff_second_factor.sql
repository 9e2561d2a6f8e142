-- A second factor for built-in staff accounts (TOTP, RFC 6238). Required unless the account
-- says otherwise (only the demo's invented accounts do). The secret counts once a code from
-- the app confirmed it; `totp_last_step` keeps a code from counting twice. Recovery codes are
-- stored as hashes and work once each. Setting it up takes a one-time setup code from an
-- administrator (hashed, with its expiry), so a password alone cannot claim an account; wrong
-- codes in a row are counted, and too many close the account until an administrator resets it.
ALTER TABLE staff ADD COLUMN second_factor TEXT NOT NULL DEFAULT 'required'
    CHECK (second_factor IN ('required', 'off'));
ALTER TABLE staff ADD COLUMN totp_secret BLOB;
ALTER TABLE staff ADD COLUMN totp_confirmed_at TEXT;
ALTER TABLE staff ADD COLUMN totp_last_step INTEGER;
ALTER TABLE staff ADD COLUMN setup_code_hash BLOB;
ALTER TABLE staff ADD COLUMN setup_code_expires_at TEXT;
ALTER TABLE staff ADD COLUMN code_failures INTEGER NOT NULL DEFAULT 0;

CREATE TABLE staff_recovery_codes (
    staff_id  TEXT NOT NULL REFERENCES staff(id),
    code_hash BLOB NOT NULL,
    used_at   TEXT,
    PRIMARY KEY (staff_id, code_hash)
) STRICT;
