-- A dossier stays traceable: changing or deleting an entry keeps the version it replaces, with
-- who wrote it and when, and who changed it, when, under which purpose and why. Like article
-- revisions, a kept version is never changed or deleted, whatever code runs.
CREATE TABLE entry_versions (
    entry_id     TEXT NOT NULL REFERENCES entries(id),
    version      INTEGER NOT NULL,
    child_id     TEXT,
    kind         TEXT NOT NULL,
    visibility   TEXT NOT NULL,
    title        TEXT NOT NULL,
    body         TEXT NOT NULL,
    occurred_on  TEXT NOT NULL,
    written_by   TEXT NOT NULL REFERENCES staff(id),
    written_at   TEXT NOT NULL,
    change       TEXT NOT NULL CHECK (change IN ('updated', 'deleted')),
    changed_by   TEXT NOT NULL REFERENCES staff(id),
    changed_at   TEXT NOT NULL,
    purpose      TEXT NOT NULL,
    reason       TEXT,
    PRIMARY KEY (entry_id, version)
) STRICT;

CREATE TRIGGER entry_version_fixed
BEFORE UPDATE ON entry_versions
BEGIN
    SELECT RAISE(ABORT, 'entry versions are never changed');
END;

CREATE TRIGGER entry_version_kept
BEFORE DELETE ON entry_versions
BEGIN
    SELECT RAISE(ABORT, 'entry versions are never deleted');
END;
