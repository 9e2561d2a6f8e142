-- The CJG's own systems (the ECD) as SMART Backend Services clients of the FHIR endpoint.
-- Each client assertion is used once: its jti is kept until it would have expired anyway.
CREATE TABLE fhir_assertions (
    client_id  TEXT NOT NULL,
    jti        TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    PRIMARY KEY (client_id, jti)
) STRICT;

-- Short-lived access tokens (hashed), with the scopes granted.
CREATE TABLE fhir_tokens (
    token_hash BLOB PRIMARY KEY,
    client_id  TEXT NOT NULL,
    scopes     TEXT NOT NULL,
    expires_at TEXT NOT NULL
) STRICT;
