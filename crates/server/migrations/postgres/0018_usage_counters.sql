-- The usage report's activity counters (see SQLite migration 0024).
CREATE TABLE usage_activity (
    bucket       TEXT NOT NULL,
    municipality TEXT NOT NULL,
    team         TEXT NOT NULL,
    persons      BIGINT NOT NULL,
    PRIMARY KEY (bucket, municipality, team)
);

CREATE TABLE usage_counting (
    id         BIGINT PRIMARY KEY CHECK (id = 1),
    started_on TEXT NOT NULL
);
INSERT INTO usage_counting (id, started_on) VALUES (1, to_char(now() AT TIME ZONE 'Europe/Amsterdam', 'YYYY-MM-DD'));
