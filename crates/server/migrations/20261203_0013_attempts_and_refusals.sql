-- Counts of guesses that must hold across server instances (on PostgreSQL all instances share
-- them): failed staff sign-ins per username and per address, failed activation codes per
-- address and in total. One row per scope, subject and 15-minute window; old windows are
-- deleted by the hourly schedule. The subject is a hash (a username, or an address's /64),
-- never the text someone typed.
CREATE TABLE attempt_counts (
    scope        TEXT NOT NULL,
    subject      BLOB NOT NULL,
    window_start TEXT NOT NULL,
    count        INTEGER NOT NULL,
    PRIMARY KEY (scope, subject, window_start)
) STRICT;

-- Refused requests, counted per minute, route, method, status and subject (the token's owner,
-- or '' for none) instead of one row each: a stranger's flood of refusals adds to a counter,
-- not to the disk. Kept for the retention period (--denied-retention-days), then deleted.
CREATE TABLE denied_counts (
    minute       TEXT NOT NULL,
    method       TEXT NOT NULL,
    route        TEXT NOT NULL,
    status       INTEGER NOT NULL,
    subject_kind TEXT NOT NULL,
    subject_id   TEXT NOT NULL,
    count        INTEGER NOT NULL,
    PRIMARY KEY (minute, route, method, status, subject_kind, subject_id)
) STRICT;

INSERT INTO denied_counts (minute, method, route, status, subject_kind, subject_id, count)
SELECT replace(substr(at, 1, 16), ' ', 'T'), method, route, status, COALESCE(subject_kind, ''),
       COALESCE(subject_id, ''), COUNT(*)
FROM denied_requests
GROUP BY 1, 2, 3, 4, 5, 6;

DROP TABLE denied_requests;
