-- The day a youth's consent was given: a consent given before 16 does not carry past the 16th
-- birthday (the app asks again). Filled from the consent history for consents already given.
ALTER TABLE people ADD COLUMN consent_on TEXT;
UPDATE people SET consent_on = (
    SELECT substr(MAX(c.at), 1, 10) FROM consents c WHERE c.youth_id = people.id AND c.shares = 1
) WHERE shares_with_parents = 1;
