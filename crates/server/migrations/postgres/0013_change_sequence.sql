-- Sequence numbers from a PostgreSQL sequence, which no transaction holds: writes to different
-- dossiers no longer wait for one counter row (see db/sql/mod.rs). It goes on from the counter;
-- `seq_counter` keeps its last value (SQLite still counts there) and is not read any more here.
CREATE SEQUENCE change_seq AS BIGINT MINVALUE 1;
SELECT setval('change_seq', GREATEST(value, 1), value > 0) FROM seq_counter WHERE id = 1;

-- An instance of an older release still running beside a new one would go on counting in
-- `seq_counter` and hand out numbers the sequence hands out too: cursors would skip changes.
-- Its writes fail here instead, until every instance runs this release.
CREATE FUNCTION seq_counter_retired() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'seq_counter is retired: this database numbers changes with change_seq; upgrade every instance';
END
$$;
CREATE TRIGGER seq_counter_retired BEFORE UPDATE ON seq_counter
    FOR EACH ROW EXECUTE FUNCTION seq_counter_retired();
