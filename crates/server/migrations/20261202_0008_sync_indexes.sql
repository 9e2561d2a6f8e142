-- The sync reads every entry of a dossier twice per page: once to apply the access policy, once
-- to find what changed after the cursor. Both need only small columns; these covering indexes
-- let SQLite answer without reading the bodies (measured in BENCHMARKS.md, initial sync).
CREATE INDEX entries_access_scan ON entries (dossier_id, id, child_id, visibility, deleted);
CREATE INDEX entries_id_seq ON entries (id, seq);
