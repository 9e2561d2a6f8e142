-- Which families the demo invented (see the SQLite migration 0011 for the why).
ALTER TABLE dossiers ADD COLUMN invented BIGINT NOT NULL DEFAULT 0 CHECK (invented IN (0, 1));
