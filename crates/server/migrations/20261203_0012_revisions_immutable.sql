-- Four eyes: an editor approves the text they read. A revision's text is therefore never
-- changed or deleted once written (a change is a new revision), and the database itself refuses
-- it, whatever code runs. Only the approval columns may still be set.
CREATE TRIGGER article_revision_text_fixed
BEFORE UPDATE OF article_id, revision, title, summary, body, topics, age_min, age_max, source, language,
                 author_id, created_at ON article_revisions
BEGIN
    SELECT RAISE(ABORT, 'article revisions are never changed');
END;

CREATE TRIGGER article_revision_kept
BEFORE DELETE ON article_revisions
BEGIN
    SELECT RAISE(ABORT, 'article revisions are never deleted');
END;
