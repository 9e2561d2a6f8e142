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
INSERT INTO usage_counting (id, started_on)
    VALUES (1, to_char((now() AT TIME ZONE 'Europe/Amsterdam') + interval '1 day', 'YYYY-MM-DD'));

CREATE TABLE usage_shared (
    month        TEXT NOT NULL,
    municipality TEXT NOT NULL,
    team         TEXT NOT NULL,
    question     TEXT NOT NULL,
    reports      BIGINT NOT NULL,
    yes          BIGINT NOT NULL,
    PRIMARY KEY (month, municipality, team, question)
);
ALTER TABLE devices ADD COLUMN usage_reported_month TEXT;
