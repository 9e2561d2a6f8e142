-- A staff token also ends after a period without use (--staff-idle-minutes), not only at the
-- end of its maximum life: a screen left signed in at a shared desk closes itself.
ALTER TABLE tokens ADD COLUMN last_used_at TEXT;
