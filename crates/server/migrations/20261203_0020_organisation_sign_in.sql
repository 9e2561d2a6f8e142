-- Staff sign in with the organisation's own account (OpenID Connect). The server is the relying
-- party: it keeps the client secret and the provider's refresh token; the app only ever holds a
-- Mijn CJG staff token.

-- The provider's issuer and subject of a staff member who signed in there (once linked, the
-- account is theirs; a built-in account with the same username is linked at the first sign-in).
ALTER TABLE staff ADD COLUMN oidc_issuer TEXT;
ALTER TABLE staff ADD COLUMN oidc_subject TEXT;
CREATE UNIQUE INDEX staff_oidc_subject ON staff (oidc_issuer, oidc_subject) WHERE oidc_subject IS NOT NULL;

-- A sign-in under way: from the app's start to the provider's answer (state, nonce, PKCE
-- verifier), then from the answer to the app's finish (handoff). Each row is used once.
CREATE TABLE oidc_flows (
    state          TEXT PRIMARY KEY,
    nonce          TEXT NOT NULL,
    pkce_verifier  TEXT NOT NULL,
    app_challenge  TEXT NOT NULL,
    return_to      TEXT NOT NULL,
    expires_at     TEXT NOT NULL,
    -- Set once the provider answered and the ID token checked out.
    handoff_hash   BLOB UNIQUE,
    session_id     TEXT
) STRICT;

-- A staff member's session at the provider, as Mijn CJG knows it: checked again with the
-- provider's refresh token every few minutes; ended when the provider refuses it.
CREATE TABLE oidc_sessions (
    id            TEXT PRIMARY KEY,
    staff_id      TEXT NOT NULL REFERENCES staff(id),
    refresh_token TEXT,
    id_token      TEXT NOT NULL,
    checked_at    TEXT NOT NULL,
    ended_at      TEXT
) STRICT;

ALTER TABLE tokens ADD COLUMN oidc_session TEXT;

-- Every staff sign-in: who, how, when, from where; with the provider's subject, never a password.
CREATE TABLE staff_sign_ins (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    staff_id   TEXT NOT NULL REFERENCES staff(id),
    method     TEXT NOT NULL CHECK (method IN ('password', 'organisation')),
    subject    TEXT,
    address    TEXT NOT NULL,
    at         TEXT NOT NULL
) STRICT;
