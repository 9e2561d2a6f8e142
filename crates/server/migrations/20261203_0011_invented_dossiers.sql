-- Which families the demo invented. `--demo` issues activation codes (and prints them) only for
-- these, and refuses to run on a database that holds any other family: a demo started by
-- mistake on a real server must never hand out a code for a real person.
ALTER TABLE dossiers ADD COLUMN invented INTEGER NOT NULL DEFAULT 0 CHECK (invented IN (0, 1));
-- A database the demo made before this column existed keeps working with --demo: its families
-- are the demo's own names, on a database whose coach is the demo's invented "Fleur Demo".
UPDATE dossiers SET invented = 1
WHERE (family_name IN ('Voorbeeld', 'Proef') OR family_name LIKE 'Demo-archief %' OR family_name LIKE 'Last %')
  AND EXISTS (SELECT 1 FROM staff WHERE username = 'coach' AND display_name = 'Fleur Demo');
