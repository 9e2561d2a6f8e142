-- The CJG's own systems as SMART Backend Services clients (see SQLite migration 0021).
CREATE TABLE fhir_assertions (
    client_id  TEXT NOT NULL,
    jti        TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    PRIMARY KEY (client_id, jti)
);

CREATE TABLE fhir_tokens (
    token_hash BYTEA PRIMARY KEY,
    client_id  TEXT NOT NULL,
    scopes     TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
