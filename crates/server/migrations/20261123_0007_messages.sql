-- Berichten: one conversation per family member with the coaches of the dossier. A family
-- member's message has the app's id (the idempotency key of its outbox) and a payload hash
-- to tell a retry from a different message under a reused id.
CREATE TABLE messages (
    id              TEXT PRIMARY KEY,
    dossier_id      TEXT NOT NULL REFERENCES dossiers(id),
    person_id       TEXT NOT NULL REFERENCES people(id),
    author_staff_id TEXT REFERENCES staff(id),
    text            TEXT NOT NULL,
    payload_hash    BLOB,
    created_at      TEXT NOT NULL,
    read_at         TEXT,
    version         INTEGER NOT NULL,
    seq             INTEGER NOT NULL
) STRICT;
CREATE INDEX messages_person_seq ON messages (person_id, seq);
CREATE INDEX messages_dossier ON messages (dossier_id, created_at);
