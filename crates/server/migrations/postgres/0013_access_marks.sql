-- Per-person mark of the last time the access policy was applied (see SQLite migration 0020).
CREATE TABLE access_marks (
    person_id  TEXT PRIMARY KEY REFERENCES people(id),
    checked_on TEXT NOT NULL,
    policy_seq BIGINT NOT NULL,
    regime     TEXT NOT NULL
);
