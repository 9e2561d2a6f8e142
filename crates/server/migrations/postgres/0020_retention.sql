-- Dossiers removed because their legal retention term had passed (cjg-server retention
-- --apply): what went, when, on whose command. The dossier's own access log goes with it, so
-- this is the record that it was removed. Counts only: no name, no text.
CREATE TABLE retention_log (
    dossier_id  TEXT PRIMARY KEY,
    closed_on   TEXT NOT NULL,
    removed_at  TEXT NOT NULL,
    actor       TEXT NOT NULL,
    people      BIGINT NOT NULL,
    entries     BIGINT NOT NULL,
    log_lines   BIGINT NOT NULL
);

-- Entry versions are still never changed or deleted, except with their dossier at the end of
-- its term: the removal writes its retention_log row first.
CREATE FUNCTION entry_version_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM retention_log r JOIN entries e ON e.dossier_id = r.dossier_id WHERE e.id = OLD.entry_id
    ) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'entry versions are never deleted';
END
$$;

DROP TRIGGER entry_version_fixed ON entry_versions;
CREATE TRIGGER entry_version_fixed
BEFORE UPDATE ON entry_versions
FOR EACH ROW EXECUTE FUNCTION entry_version_fixed();
CREATE TRIGGER entry_version_kept
BEFORE DELETE ON entry_versions
FOR EACH ROW EXECUTE FUNCTION entry_version_kept();
