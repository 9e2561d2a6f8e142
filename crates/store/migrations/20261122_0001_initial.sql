-- Header values in clear: format, salt, iterations, wrapped data key, cursor, device id.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
) STRICT;

-- Small sealed values: the device key, the profile of the enrolled person.
CREATE TABLE secrets (
    name    TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    sealed  BLOB NOT NULL
) STRICT;

CREATE TABLE entries (
    id      TEXT PRIMARY KEY,
    kind    TEXT NOT NULL,
    version INTEGER NOT NULL,
    sealed  BLOB NOT NULL
) STRICT;

CREATE TABLE people (
    id      TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    sealed  BLOB NOT NULL
) STRICT;
