-- Earlier versions of entries, kept and never changed (see SQLite migration 0017).
CREATE TABLE entry_versions (
    entry_id     TEXT NOT NULL REFERENCES entries(id),
    version      BIGINT NOT NULL,
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
);

CREATE FUNCTION entry_version_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'entry versions are never changed or deleted';
END
$$;

CREATE TRIGGER entry_version_fixed
BEFORE UPDATE OR DELETE ON entry_versions
FOR EACH ROW EXECUTE FUNCTION entry_version_fixed();

-- Not emptied wholesale either.
CREATE TRIGGER entry_versions_not_truncated
BEFORE TRUNCATE ON entry_versions
FOR EACH STATEMENT EXECUTE FUNCTION entry_version_fixed();
