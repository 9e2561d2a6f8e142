CREATE TABLE dossiers (
    id          TEXT PRIMARY KEY,
    family_name TEXT NOT NULL,
    created_at  TEXT NOT NULL
) STRICT;

-- The change feed: every client-visible row carries the seq of its last change.
-- One counter for the whole server, so a cursor never goes backwards.
CREATE TABLE seq_counter (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
) STRICT;
INSERT INTO seq_counter (id, value) VALUES (1, 0);

CREATE TABLE people (
    id           TEXT PRIMARY KEY,
    dossier_id   TEXT NOT NULL REFERENCES dossiers(id),
    role         TEXT NOT NULL CHECK (role IN ('parent', 'child')),
    display_name TEXT NOT NULL,
    birth_date   TEXT NOT NULL,
    version      INTEGER NOT NULL,
    seq          INTEGER NOT NULL
) STRICT;
CREATE INDEX people_dossier_seq ON people (dossier_id, seq);

CREATE TABLE staff (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL
) STRICT;

-- Which coach works on which dossier: staff see only their own caseload.
CREATE TABLE staff_dossiers (
    staff_id   TEXT NOT NULL REFERENCES staff(id),
    dossier_id TEXT NOT NULL REFERENCES dossiers(id),
    PRIMARY KEY (staff_id, dossier_id)
) STRICT;

CREATE TABLE entries (
    id              TEXT PRIMARY KEY,
    dossier_id      TEXT NOT NULL REFERENCES dossiers(id),
    child_id        TEXT REFERENCES people(id),
    kind            TEXT NOT NULL,
    title           TEXT NOT NULL,
    body            TEXT NOT NULL,
    author_staff_id TEXT NOT NULL REFERENCES staff(id),
    occurred_on     TEXT NOT NULL,
    version         INTEGER NOT NULL,
    deleted         INTEGER NOT NULL DEFAULT 0,
    updated_at      TEXT NOT NULL,
    seq             INTEGER NOT NULL
) STRICT;
CREATE INDEX entries_dossier_seq ON entries (dossier_id, seq);

-- Only a hash of the code is kept: a copied database reveals no usable code.
CREATE TABLE activation_codes (
    code_hash  BLOB PRIMARY KEY,
    person_id  TEXT NOT NULL REFERENCES people(id),
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
) STRICT;

CREATE TABLE devices (
    id         TEXT PRIMARY KEY,
    person_id  TEXT NOT NULL REFERENCES people(id),
    public_key BLOB NOT NULL,
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
) STRICT;

CREATE TABLE challenges (
    challenge  TEXT PRIMARY KEY,
    device_id  TEXT NOT NULL REFERENCES devices(id),
    expires_at TEXT NOT NULL
) STRICT;

CREATE TABLE tokens (
    token_hash   BLOB PRIMARY KEY,
    subject_kind TEXT NOT NULL CHECK (subject_kind IN ('device', 'staff')),
    subject_id   TEXT NOT NULL,
    expires_at   TEXT NOT NULL
) STRICT;

-- NEN 7513: who, in what role, did what, to which object, why, when, from where.
CREATE TABLE audit_events (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    dossier_id     TEXT NOT NULL REFERENCES dossiers(id),
    actor_staff_id TEXT NOT NULL REFERENCES staff(id),
    actor_role     TEXT NOT NULL,
    action         TEXT NOT NULL,
    object_type    TEXT NOT NULL,
    object_id      TEXT,
    purpose        TEXT NOT NULL,
    at             TEXT NOT NULL,
    origin         TEXT NOT NULL
) STRICT;
CREATE INDEX audit_events_dossier ON audit_events (dossier_id, id);
