-- Which families the demo invented. `--demo` issues activation codes (and prints them) only for
-- these, and refuses to run on a database that holds any other family: a demo started by
-- mistake on a real server must never hand out a code for a real person.
ALTER TABLE dossiers ADD COLUMN invented INTEGER NOT NULL DEFAULT 0 CHECK (invented IN (0, 1));
