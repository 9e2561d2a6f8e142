-- A staff token also ends after a period without use (see SQLite migration 0014).
ALTER TABLE tokens ADD COLUMN last_used_at TEXT;
