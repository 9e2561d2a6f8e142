-- Shared guess counts and refusals counted per minute (see SQLite migration 0013 for the why).
CREATE TABLE attempt_counts (
    scope        TEXT NOT NULL,
    subject      BYTEA NOT NULL,
    window_start TEXT NOT NULL,
    count        BIGINT NOT NULL,
    PRIMARY KEY (scope, subject, window_start)
);

CREATE TABLE denied_counts (
    minute       TEXT NOT NULL,
    method       TEXT NOT NULL,
    route        TEXT NOT NULL,
    status       BIGINT NOT NULL,
    subject_kind TEXT NOT NULL,
    subject_id   TEXT NOT NULL,
    count        BIGINT NOT NULL,
    PRIMARY KEY (minute, route, method, status, subject_kind, subject_id)
);

INSERT INTO denied_counts (minute, method, route, status, subject_kind, subject_id, count)
SELECT replace(substr(at, 1, 16), ' ', 'T'), method, route, status, COALESCE(subject_kind, ''),
       COALESCE(subject_id, ''), COUNT(*)
FROM denied_requests
GROUP BY 1, 2, 3, 4, 5, 6;

DROP TABLE denied_requests;
