-- Every replacement of the access log's checkpoint key (cjg-server rotate-audit-key), oldest
-- first: the statement the old key signed. Apps get them with each access-log batch and follow
-- them from the key they pinned at enrolment; a key that no statement hands over to is refused.
CREATE TABLE audit_key_rotations (
    position  BIGINT PRIMARY KEY,
    old_key   TEXT NOT NULL UNIQUE,
    new_key   TEXT NOT NULL UNIQUE,
    at        TEXT NOT NULL,
    signature TEXT NOT NULL
);
