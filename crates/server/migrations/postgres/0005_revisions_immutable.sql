-- Four eyes: a revision's text is never changed or deleted (see SQLite migration 0012).
CREATE FUNCTION article_revision_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'article revisions are never changed or deleted';
END
$$;

CREATE TRIGGER article_revision_text_fixed
BEFORE UPDATE OF article_id, revision, title, summary, body, topics, age_min, age_max, source, language,
                 author_id, created_at ON article_revisions
FOR EACH ROW EXECUTE FUNCTION article_revision_fixed();

CREATE TRIGGER article_revision_kept
BEFORE DELETE ON article_revisions
FOR EACH ROW EXECUTE FUNCTION article_revision_fixed();
