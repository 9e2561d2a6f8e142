-- A sync that finds nothing new should not apply the access policy to every entry of the
-- dossier again. Per person: the Dutch date, the newest change of the dossier's entries and
-- people, and the regime the policy was last applied with. While all three are the same, the
-- access ledger is up to date and the scan is skipped.
CREATE TABLE access_marks (
    person_id  TEXT PRIMARY KEY REFERENCES people(id),
    checked_on TEXT NOT NULL,
    policy_seq INTEGER NOT NULL,
    regime     TEXT NOT NULL
) STRICT;
