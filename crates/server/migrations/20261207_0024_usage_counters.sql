-- The usage report's activity counters: how many persons of a team contacted the server in a
-- week, month, quarter or half year (`bucket`: 2026-W47, 2026-11, 2026-Q4, 2026-H2). Numbers
-- only: a person is counted at their first contact in a bucket that differs from their
-- previous contact (devices.last_seen_at, which the device list keeps anyway), so no new
-- fact about a person is stored. `usage_counting` holds the day counting began: periods that
-- began earlier have no activity figures.
CREATE TABLE usage_activity (
    bucket       TEXT NOT NULL,
    municipality TEXT NOT NULL,
    team         TEXT NOT NULL,
    persons      INTEGER NOT NULL,
    PRIMARY KEY (bucket, municipality, team)
) STRICT;

CREATE TABLE usage_counting (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    started_on TEXT NOT NULL
) STRICT;
-- From the day after the upgrade (a day with contacts before it would count short); the
-- Dutch date, at most a day late.
INSERT INTO usage_counting (id, started_on) VALUES (1, date('now', '+2 hours', '+1 day'));

-- Monthly reports from apps whose person chose to share which parts they used: randomized on
-- the device, added up here per month, team and question. `devices.usage_reported_month` is
-- the last month a person's app reported, so a month counts once per person.
CREATE TABLE usage_shared (
    month        TEXT NOT NULL,
    municipality TEXT NOT NULL,
    team         TEXT NOT NULL,
    question     TEXT NOT NULL,
    reports      INTEGER NOT NULL,
    yes          INTEGER NOT NULL,
    PRIMARY KEY (month, municipality, team, question)
) STRICT;
ALTER TABLE devices ADD COLUMN usage_reported_month TEXT;
