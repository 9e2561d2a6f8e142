-- A machine client's Subscriptions (FHIR rest-hook without payload, as Koppeltaal): when
-- something of `criteria` changes in a family it serves, the server POSTs an empty
-- notification to `endpoint`, and the client polls with _lastUpdated.
CREATE TABLE fhir_subscriptions (
    id         TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL,
    criteria   TEXT NOT NULL,
    endpoint   TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE INDEX fhir_subscriptions_criteria ON fhir_subscriptions (criteria);
