-- Berichten: this person's conversation with the coach, sealed.
CREATE TABLE messages (
    id      TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    sealed  BLOB NOT NULL
) STRICT;
