-- Taken: the trajectory dates questionnaires hang on, the municipality and team the indicator
-- report groups by, and one row per questionnaire asked of a person (its answers when they came).
ALTER TABLE dossiers ADD COLUMN municipality TEXT NOT NULL DEFAULT 'Onbekend';
ALTER TABLE dossiers ADD COLUMN team TEXT NOT NULL DEFAULT 'Onbekend';
ALTER TABLE dossiers ADD COLUMN started_on TEXT;
ALTER TABLE dossiers ADD COLUMN closed_on TEXT;

-- One questionnaire per person per phase of a trajectory: the schedule and a coach sending one
-- by hand meet in this constraint instead of making two.
CREATE TABLE questionnaire_tasks (
    id                    TEXT PRIMARY KEY,
    dossier_id            TEXT NOT NULL REFERENCES dossiers(id),
    person_id             TEXT NOT NULL REFERENCES people(id),
    phase                 TEXT NOT NULL CHECK (phase IN ('start', 'tussentijds', 'eind')),
    questionnaire_key     TEXT NOT NULL,
    questionnaire_version INTEGER NOT NULL,
    available_on          TEXT NOT NULL,
    due_on                TEXT NOT NULL,
    -- NULL: the schedule sent it.
    sent_by               TEXT REFERENCES staff(id),
    status                TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'submitted', 'withdrawn')),
    -- The app's id for its answer: the idempotency key of its outbox.
    submission_id         TEXT UNIQUE,
    payload_hash          BLOB,
    answers               TEXT,
    submitted_device      TEXT REFERENCES devices(id),
    submitted_at          TEXT,
    created_at            TEXT NOT NULL,
    version               INTEGER NOT NULL,
    seq                   INTEGER NOT NULL,
    UNIQUE (dossier_id, person_id, phase)
) STRICT;
CREATE INDEX questionnaire_tasks_person_seq ON questionnaire_tasks (person_id, seq);
CREATE INDEX questionnaire_tasks_report ON questionnaire_tasks (phase, available_on);

-- A coach asks a family member to read an entry and say whether it is right. Done when that
-- person sends feedback on the entry.
CREATE TABLE feedback_requests (
    id           TEXT PRIMARY KEY,
    entry_id     TEXT NOT NULL REFERENCES entries(id),
    dossier_id   TEXT NOT NULL REFERENCES dossiers(id),
    person_id    TEXT NOT NULL REFERENCES people(id),
    note         TEXT NOT NULL,
    due_on       TEXT NOT NULL,
    requested_by TEXT NOT NULL REFERENCES staff(id),
    created_at   TEXT NOT NULL,
    done_at      TEXT,
    version      INTEGER NOT NULL,
    seq          INTEGER NOT NULL,
    UNIQUE (entry_id, person_id)
) STRICT;
CREATE INDEX feedback_requests_person_seq ON feedback_requests (person_id, seq);
