-- Inzage per person: each family member has a hash chain of their own over the lines of the
-- access log they may read, decided on the day of the access. `position` counts that person's
-- lines only, so a line they may not read leaves no gap and no count.
CREATE TABLE audit_views (
    person_id TEXT NOT NULL REFERENCES people(id),
    position  INTEGER NOT NULL,
    event_id  TEXT NOT NULL,
    hash      TEXT NOT NULL,
    PRIMARY KEY (person_id, position)
);
CREATE UNIQUE INDEX audit_events_event ON audit_events (event_id);
