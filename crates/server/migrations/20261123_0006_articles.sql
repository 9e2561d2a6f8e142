-- Informatie: articles with revisions. Families see only the published revision of an article
-- that is not withdrawn; `seq` moves when that changes (approval, replacement, withdrawal).
CREATE TABLE articles (
    id                 TEXT PRIMARY KEY,
    published_revision INTEGER,
    withdrawn_at       TEXT,
    withdrawn_by       TEXT REFERENCES staff(id),
    created_at         TEXT NOT NULL,
    version            INTEGER NOT NULL,
    seq                INTEGER NOT NULL
) STRICT;
CREATE INDEX articles_seq ON articles (seq);

-- Every approval is kept: who approved which text, when.
CREATE TABLE article_revisions (
    article_id     TEXT NOT NULL REFERENCES articles(id),
    revision       INTEGER NOT NULL,
    title          TEXT NOT NULL,
    summary        TEXT NOT NULL,
    body           TEXT NOT NULL,
    topics         TEXT NOT NULL,
    age_min        INTEGER NOT NULL,
    age_max        INTEGER NOT NULL,
    source         TEXT NOT NULL,
    language       TEXT NOT NULL CHECK (language IN ('nl', 'en')),
    author_id      TEXT NOT NULL REFERENCES staff(id),
    created_at     TEXT NOT NULL,
    approved_by    TEXT REFERENCES staff(id),
    approved_at    TEXT,
    PRIMARY KEY (article_id, revision)
) STRICT;

-- A coach points one family member to an article, shown now or at a phase of the trajectory.
CREATE TABLE reading_tips (
    id          TEXT PRIMARY KEY,
    dossier_id  TEXT NOT NULL REFERENCES dossiers(id),
    person_id   TEXT NOT NULL REFERENCES people(id),
    article_id  TEXT NOT NULL REFERENCES articles(id),
    note        TEXT NOT NULL,
    show_at     TEXT NOT NULL CHECK (show_at IN ('now', 'tussentijds', 'eind')),
    created_by  TEXT NOT NULL REFERENCES staff(id),
    created_at  TEXT NOT NULL,
    shown       INTEGER NOT NULL DEFAULT 0,
    read_at     TEXT,
    version     INTEGER NOT NULL,
    seq         INTEGER NOT NULL
) STRICT;
CREATE INDEX reading_tips_person_seq ON reading_tips (person_id, seq);
