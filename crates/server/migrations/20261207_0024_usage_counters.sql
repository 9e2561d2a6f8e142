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
INSERT INTO usage_counting (id, started_on) VALUES (1, strftime('%Y-%m-%d', 'now'));
