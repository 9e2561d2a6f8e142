-- What the ECD's own identifiers stand for here: a resource sent twice is stored once. Kept
-- per client, so another organisation's system cannot reach or probe this one's records by
-- their identifiers. resource_type 'family' keys a dossier by the ECD's family number.
CREATE TABLE fhir_links (
    client_id     TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    system        TEXT NOT NULL,
    value         TEXT NOT NULL,
    local_id      TEXT NOT NULL,
    PRIMARY KEY (client_id, resource_type, system, value)
);

CREATE UNIQUE INDEX fhir_links_local ON fhir_links (client_id, resource_type, local_id);
