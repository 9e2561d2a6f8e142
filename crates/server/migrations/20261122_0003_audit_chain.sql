-- Inzage: the audit log becomes a hash chain per dossier (position, hash), each line names the
-- actor as the family will read it, may carry the staff member's note on the purpose, and says
-- through which application the access came. `origin` keeps the peer address (server-side only).
ALTER TABLE audit_events ADD COLUMN event_id TEXT;
ALTER TABLE audit_events ADD COLUMN position INTEGER;
ALTER TABLE audit_events ADD COLUMN actor_name TEXT;
ALTER TABLE audit_events ADD COLUMN purpose_note TEXT;
ALTER TABLE audit_events ADD COLUMN application TEXT;
-- SHA-256 over the previous line's hash and this line's canonical bytes, lowercase hex.
ALTER TABLE audit_events ADD COLUMN hash TEXT;
-- One chain per dossier: two writers can never both append line N (also on PostgreSQL later).
CREATE UNIQUE INDEX audit_events_chain ON audit_events (dossier_id, position);

-- A staff member's stated purpose for one dossier, valid until expires_at.
CREATE TABLE purpose_sessions (
    staff_id   TEXT NOT NULL REFERENCES staff(id),
    dossier_id TEXT NOT NULL REFERENCES dossiers(id),
    purpose    TEXT NOT NULL,
    note       TEXT,
    opened_at  TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    PRIMARY KEY (staff_id, dossier_id)
) STRICT;

-- A device found that the log it was sent does not extend what it verified before.
CREATE TABLE audit_alerts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    dossier_id    TEXT NOT NULL REFERENCES dossiers(id),
    person_id     TEXT NOT NULL REFERENCES people(id),
    device_id     TEXT NOT NULL REFERENCES devices(id),
    verified_size INTEGER NOT NULL,
    verified_head TEXT NOT NULL,
    received_size INTEGER NOT NULL,
    received_head TEXT NOT NULL,
    at            TEXT NOT NULL
) STRICT;
