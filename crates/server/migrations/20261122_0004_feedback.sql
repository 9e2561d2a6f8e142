-- Taken: a family member's feedback on an entry. `id` is made by the app: the idempotency key
-- of its outbox. `payload_hash` tells a retry (same item) from a different item under a reused id.
CREATE TABLE feedback (
    id               TEXT PRIMARY KEY,
    entry_id         TEXT NOT NULL REFERENCES entries(id),
    dossier_id       TEXT NOT NULL REFERENCES dossiers(id),
    author_person_id TEXT NOT NULL REFERENCES people(id),
    author_device_id TEXT NOT NULL REFERENCES devices(id),
    kind             TEXT NOT NULL,
    text             TEXT NOT NULL,
    payload_hash     BLOB NOT NULL,
    created_at       TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'open',
    answer           TEXT,
    answered_by      TEXT,
    answered_at      TEXT,
    version          INTEGER NOT NULL,
    seq              INTEGER NOT NULL
) STRICT;
CREATE INDEX feedback_author_seq ON feedback (author_person_id, seq);
CREATE INDEX feedback_dossier ON feedback (dossier_id, created_at);
