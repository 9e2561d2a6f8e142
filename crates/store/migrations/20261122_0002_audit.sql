-- Inzage: the dossier's access log as verified against the server's signed checkpoints.
-- One sealed row per line; `id` is the line's place in the chain.
CREATE TABLE audit (
    id      TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    sealed  BLOB NOT NULL
) STRICT;
