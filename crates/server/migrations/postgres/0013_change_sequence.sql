-- Sequence numbers from a PostgreSQL sequence, which no transaction holds: writes to different
-- dossiers no longer wait for one counter row (see db/sql/mod.rs). It goes on from the counter;
-- `seq_counter` keeps its last value (SQLite still counts there) and is not read any more here.
CREATE SEQUENCE change_seq AS BIGINT MINVALUE 1;
SELECT setval('change_seq', GREATEST(value, 1), value > 0) FROM seq_counter WHERE id = 1;
