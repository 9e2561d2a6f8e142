-- A period's indicator report is stored the first time it is pulled after the period closed
-- (Period::freezes_on) and served from here ever after: late changes cannot make two pulls of
-- one period differ, so they cannot be subtracted either. Every pull of a report is logged:
-- who (a staff member, or the command line), which period and format, when.
CREATE TABLE frozen_reports (
    period    TEXT PRIMARY KEY,
    frozen_at TEXT NOT NULL,
    report    TEXT NOT NULL
) STRICT;

CREATE TABLE report_pulls (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    role      TEXT NOT NULL,
    report    TEXT NOT NULL,
    period    TEXT NOT NULL,
    format    TEXT NOT NULL
) STRICT;
