-- Access policy: carers and gezag on people, visibility on entries, the regime per dossier,
-- consent history, the per-person access ledger of the sync feed, device lifecycle and the log
-- of refused requests.

-- People gain a role ('carer') the old CHECK forbids, so the table is rebuilt (SQLite's
-- twelve-step way). Migrations run with foreign keys off and are checked afterwards
-- (see db.rs), so the rows that point at people simply point at the new table.
CREATE TABLE people_new (
    id                  TEXT PRIMARY KEY,
    dossier_id          TEXT NOT NULL REFERENCES dossiers(id),
    role                TEXT NOT NULL CHECK (role IN ('parent', 'child', 'carer')),
    display_name        TEXT NOT NULL,
    birth_date          TEXT NOT NULL,
    has_gezag           INTEGER NOT NULL DEFAULT 0 CHECK (has_gezag IN (0, 1)),
    shares_with_parents INTEGER NOT NULL DEFAULT 0 CHECK (shares_with_parents IN (0, 1)),
    version             INTEGER NOT NULL,
    seq                 INTEGER NOT NULL
) STRICT;
INSERT INTO people_new (id, dossier_id, role, display_name, birth_date, has_gezag, version, seq)
    SELECT id, dossier_id, role, display_name, birth_date, role = 'parent', version, seq FROM people;
DROP TABLE people;
ALTER TABLE people_new RENAME TO people;
CREATE INDEX people_dossier_seq ON people (dossier_id, seq);

ALTER TABLE dossiers ADD COLUMN regime TEXT NOT NULL DEFAULT 'jeugdwet' CHECK (regime IN ('jeugdwet', 'wgbo'));

ALTER TABLE entries ADD COLUMN visibility TEXT NOT NULL DEFAULT 'family'
    CHECK (visibility IN ('family', 'child', 'youth_only', 'parents_only', 'staff_only'));
UPDATE entries SET visibility = 'child' WHERE child_id IS NOT NULL;

-- Every consent a youth gave or withdrew, kept; people.shares_with_parents holds the current one.
CREATE TABLE consents (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    youth_id    TEXT NOT NULL REFERENCES people(id),
    shares      INTEGER NOT NULL CHECK (shares IN (0, 1)),
    recorded_by TEXT NOT NULL,
    at          TEXT NOT NULL
) STRICT;

-- What each person's devices were last told about each entry. When the policy's answer changes
-- (a birthday, a consent, a new visibility) the row flips and takes a new seq, so the next sync
-- sends the entry or its tombstone even though the entry itself did not change.
CREATE TABLE entry_access (
    person_id TEXT NOT NULL REFERENCES people(id),
    entry_id  TEXT NOT NULL REFERENCES entries(id),
    visible   INTEGER NOT NULL CHECK (visible IN (0, 1)),
    seq       INTEGER NOT NULL,
    PRIMARY KEY (person_id, entry_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX entry_access_person_seq ON entry_access (person_id, seq);

ALTER TABLE devices ADD COLUMN last_seen_at TEXT;
ALTER TABLE devices ADD COLUMN revoked_by TEXT;

-- Refused requests (401/403/404 on a real route): who tried what, from where. No ids from the
-- path or body, so a guessed id is not stored as if it were a fact.
CREATE TABLE denied_requests (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    at           TEXT NOT NULL,
    method       TEXT NOT NULL,
    route        TEXT NOT NULL,
    status       INTEGER NOT NULL,
    subject_kind TEXT,
    subject_id   TEXT,
    origin       TEXT NOT NULL
) STRICT;
