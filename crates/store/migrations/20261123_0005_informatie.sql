-- Informatie: approved articles (everyone's) and the coach's reading tips for this person, sealed
-- like every other row, so the library reads offline and gives nothing away on disk.
CREATE TABLE articles (
    id      TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    sealed  BLOB NOT NULL
) STRICT;

CREATE TABLE tips (
    id      TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    sealed  BLOB NOT NULL
) STRICT;
