-- Staff sign in with the organisation's own account (see SQLite migration 0020).
ALTER TABLE staff ADD COLUMN oidc_issuer TEXT;
ALTER TABLE staff ADD COLUMN oidc_subject TEXT;
CREATE UNIQUE INDEX staff_oidc_subject ON staff (oidc_issuer, oidc_subject) WHERE oidc_subject IS NOT NULL;

CREATE TABLE oidc_flows (
    state          TEXT PRIMARY KEY,
    nonce          TEXT NOT NULL,
    pkce_verifier  TEXT NOT NULL,
    app_challenge  TEXT NOT NULL,
    return_to      TEXT NOT NULL,
    expires_at     TEXT NOT NULL,
    handoff_hash   BYTEA UNIQUE,
    session_id     TEXT
);

CREATE TABLE oidc_sessions (
    id            TEXT PRIMARY KEY,
    staff_id      TEXT NOT NULL REFERENCES staff(id),
    refresh_token TEXT,
    id_token      TEXT NOT NULL,
    checked_at    TEXT NOT NULL,
    ended_at      TEXT
);

ALTER TABLE tokens ADD COLUMN oidc_session TEXT;

CREATE TABLE staff_sign_ins (
    id         BIGSERIAL PRIMARY KEY,
    staff_id   TEXT NOT NULL REFERENCES staff(id),
    method     TEXT NOT NULL CHECK (method IN ('password', 'organisation')),
    subject    TEXT,
    address    TEXT NOT NULL,
    at         TEXT NOT NULL
);
