-- Inzage per person (as SQLite's 20261202_0009_audit_per_person.sql): each family member has a
-- hash chain of their own over the lines of the access log they may read.
CREATE TABLE audit_views (
    person_id TEXT NOT NULL REFERENCES people(id),
    position  BIGINT NOT NULL,
    event_id  TEXT NOT NULL,
    hash      TEXT NOT NULL,
    PRIMARY KEY (person_id, position)
);
CREATE UNIQUE INDEX audit_events_event ON audit_events (event_id);
