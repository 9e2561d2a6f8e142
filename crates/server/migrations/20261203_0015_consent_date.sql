-- The day a youth's consent was given: a consent given before 16 does not carry past the 16th
-- birthday (the app asks again). Filled from the consent history for consents already given.
ALTER TABLE people ADD COLUMN consent_on TEXT;
-- Each filled row gets a new place in the change feed (one number each, in id order) and a new
-- version, so the apps receive the day at their next sync. The day is the UTC date of the
-- consent; one given between midnight and two at night Dutch time counts a day early, which
-- at worst asks a youth once more.
UPDATE people SET
    consent_on = (SELECT substr(MAX(c.at), 1, 10) FROM consents c WHERE c.youth_id = people.id AND c.shares = 1),
    version = version + 1,
    seq = (SELECT value FROM seq_counter WHERE id = 1)
        + (SELECT COUNT(*) FROM people p2 WHERE p2.shares_with_parents = 1 AND p2.id <= people.id)
WHERE shares_with_parents = 1;
UPDATE seq_counter SET value = value + (SELECT COUNT(*) FROM people WHERE shares_with_parents = 1) WHERE id = 1;
