-- Taken: the person's feedback as the server confirmed it, and the outbox of what the app
-- still has to send. Outbox rows keep their order (rowid); `failed` holds only an error code
-- when the server refused an item for good (the entry is no longer visible, say).
CREATE TABLE feedback (
    id      TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    sealed  BLOB NOT NULL
) STRICT;

CREATE TABLE outbox (
    id      TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    sealed  BLOB NOT NULL,
    failed  TEXT
) STRICT;
