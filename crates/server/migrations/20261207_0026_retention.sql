-- Dossiers removed because their legal retention term had passed (cjg-server retention
-- --apply): what went, when, on whose command. The dossier's own access log goes with it, so
-- this is the record that it was removed. Counts only: no name, no text.
CREATE TABLE retention_log (
    dossier_id  TEXT PRIMARY KEY,
    closed_on   TEXT NOT NULL,
    removed_at  TEXT NOT NULL,
    actor       TEXT NOT NULL,
    people      INTEGER NOT NULL,
    entries     INTEGER NOT NULL,
    log_lines   INTEGER NOT NULL
) STRICT;

-- Entry versions are still never deleted, except with their dossier at the end of its term:
-- the removal writes its retention_log row first.
DROP TRIGGER entry_version_kept;
CREATE TRIGGER entry_version_kept
BEFORE DELETE ON entry_versions
WHEN NOT EXISTS (
    SELECT 1 FROM retention_log r JOIN entries e ON e.dossier_id = r.dossier_id WHERE e.id = OLD.entry_id
)
BEGIN
    SELECT RAISE(ABORT, 'entry versions are never deleted');
END;
