-- Taken: questionnaires asked of this person (with their definitions, as synced) and the
-- person's drafts, one per questionnaire. Both sealed like every other row.
CREATE TABLE questionnaires (
    id      TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    sealed  BLOB NOT NULL
) STRICT;

CREATE TABLE drafts (
    id      TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    sealed  BLOB NOT NULL
) STRICT;

-- A coach's requests to react on an entry.
CREATE TABLE requests (
    id      TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    sealed  BLOB NOT NULL
) STRICT;
