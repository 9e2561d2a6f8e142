-- Login challenges are no longer stored when they are handed out: a challenge carries its own
-- expiry and device, bound by a MAC under a key all instances share (server_keys). Only a
-- challenge a device signed is written down, so it is used once; a stranger asking challenges
-- for someone's device id writes nothing and crowds out nothing.
DROP TABLE challenges;

CREATE TABLE used_challenges (
    nonce      BLOB PRIMARY KEY,
    expires_at TEXT NOT NULL
) STRICT;

CREATE TABLE server_keys (
    name TEXT PRIMARY KEY,
    key  BLOB NOT NULL
) STRICT;
