-- The day a youth's consent was given (see SQLite migration 0015).
ALTER TABLE people ADD COLUMN consent_on TEXT;
UPDATE people SET consent_on = (
    SELECT substr(MAX(c.at), 1, 10) FROM consents c WHERE c.youth_id = people.id AND c.shares = 1
) WHERE shares_with_parents = 1;
