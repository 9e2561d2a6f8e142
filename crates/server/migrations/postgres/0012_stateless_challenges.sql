-- Stateless login challenges (see SQLite migration 0019).
DROP TABLE challenges;

CREATE TABLE used_challenges (
    nonce      BYTEA PRIMARY KEY,
    expires_at TEXT NOT NULL
);

CREATE TABLE server_keys (
    name TEXT PRIMARY KEY,
    key  BYTEA NOT NULL
);
