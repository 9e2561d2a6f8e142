//! Who in a family may read which entry. The server applies this before anything leaves it and
//! for every sync page; the app never decides.
//!
//! The rules follow the Jeugdwet (see DOMAIN.md, "Minors"): under 12 the parents with gezag see
//! the child's entries; from 12 to 15 the youth and the parents with gezag; from 16 the youth,
//! and the parents only with the youth's consent. Youth health care (JGZ, under the WGBO) moves
//! that line to 12, so the regime is a parameter. Ages count on the day the data is served, so
//! a birthday changes what the next sync sends without anyone touching the dossier.

use chrono::{Datelike, NaiveDate};
use uuid::Uuid;

use crate::entry::{PersonRole, Visibility};

/// The law that governs the dossier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Regime {
    /// Jeugdhulp: parents need the youth's consent from 16.
    Jeugdwet,
    /// Jeugdgezondheidszorg: parents need the youth's consent from 12.
    Wgbo,
}

impl Regime {
    fn consent_age(self) -> u32 {
        match self {
            Self::Jeugdwet => 16,
            Self::Wgbo => 12,
        }
    }
}

/// From this age a youth reads their own entries.
pub const OWN_ACCESS_AGE: u32 = 12;

/// One member of a family dossier, with the facts the rules need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    pub id: Uuid,
    pub role: PersonRole,
    pub birth_date: NaiveDate,
    pub has_gezag: bool,
    /// The youth consented to share their entries with the parents with gezag.
    pub shares_with_parents: bool,
    /// The day that consent was given: it counts only when given at the consent age or later.
    pub consent_on: Option<NaiveDate>,
}

/// Whether a youth's consent counts: given, and given on or after the day they reached the
/// consent age. A 14-year-old's "yes" does not carry past the 16th birthday in silence; at 16
/// the app asks again and, until they answer, the rule for 16 and over without consent applies.
pub fn consent_holds(
    regime: Regime,
    birth_date: NaiveDate,
    shares: bool,
    consent_on: Option<NaiveDate>,
) -> bool {
    shares && consent_on.and_then(|d| age_on(birth_date, d)).is_some_and(|a| a >= regime.consent_age())
}

/// Whether the app should ask the youth again: they said yes before the consent age and have
/// reached it since.
pub fn consent_to_ask_again(
    regime: Regime,
    birth_date: NaiveDate,
    shares: bool,
    consent_on: Option<NaiveDate>,
    today: NaiveDate,
) -> bool {
    shares
        && age_on(birth_date, today).is_some_and(|a| a >= regime.consent_age())
        && !consent_holds(regime, birth_date, shares, consent_on)
}

/// What an entry says about who may read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryScope {
    pub visibility: Visibility,
    pub child_id: Option<Uuid>,
}

/// Whole years of age on `today`; `None` for a birth date after today (bad data: no access).
pub fn age_on(birth_date: NaiveDate, today: NaiveDate) -> Option<u32> {
    if birth_date > today {
        return None;
    }
    let mut years = today.year() - birth_date.year();
    // Comparing (month, day) makes a 29 February birthday count on 1 March in common years.
    if (today.month(), today.day()) < (birth_date.month(), birth_date.day()) {
        years -= 1;
    }
    u32::try_from(years).ok()
}

/// The people and rules of one dossier on one day.
#[derive(Debug, Clone, Copy)]
pub struct Family<'a> {
    pub members: &'a [Member],
    pub regime: Regime,
    pub today: NaiveDate,
}

impl Family<'_> {
    fn member(&self, id: Uuid) -> Option<&Member> {
        self.members.iter().find(|m| m.id == id)
    }

    fn age(&self, m: &Member) -> Option<u32> {
        age_on(m.birth_date, self.today)
    }

    /// Whether this person may use the app for this dossier at all.
    pub fn has_own_access(&self, m: &Member) -> bool {
        match m.role {
            PersonRole::Parent | PersonRole::Carer => self.age(m).is_some(),
            PersonRole::Child => self.age(m).is_some_and(|a| a >= OWN_ACCESS_AGE),
        }
    }

    /// Whether the parents with gezag may read the entries about this child today.
    fn parents_see_child(&self, child_id: Uuid) -> bool {
        let Some(child) = self.member(child_id).filter(|c| c.role == PersonRole::Child) else { return false };
        let Some(age) = self.age(child) else { return false };
        age < self.regime.consent_age()
            || consent_holds(self.regime, child.birth_date, child.shares_with_parents, child.consent_on)
    }

    fn is_youth_itself(&self, viewer: &Member, child_id: Option<Uuid>) -> bool {
        viewer.role == PersonRole::Child && Some(viewer.id) == child_id
    }

    /// The one gate: may `viewer_id` read an entry with this scope today?
    pub fn may_see(&self, viewer_id: Uuid, scope: EntryScope) -> bool {
        let Some(viewer) = self.member(viewer_id) else { return false };
        if !self.has_own_access(viewer) {
            return false;
        }
        let parent_with_gezag = viewer.role == PersonRole::Parent && viewer.has_gezag;
        match scope.visibility {
            Visibility::StaffOnly => false,
            Visibility::Family => true,
            Visibility::Child => match scope.child_id {
                Some(c) => {
                    self.is_youth_itself(viewer, Some(c)) || (parent_with_gezag && self.parents_see_child(c))
                }
                None => false,
            },
            Visibility::YouthOnly => self.is_youth_itself(viewer, scope.child_id),
            Visibility::ParentsOnly => {
                parent_with_gezag && scope.child_id.is_none_or(|c| self.parents_see_child(c))
            }
        }
    }
}

/// What one line of the access log is about, for deciding who may read the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineSubject {
    /// The dossier as a whole (a list, the trajectory, the log itself).
    Dossier,
    /// One entry: the line follows the entry's own rule.
    Entry(EntryScope),
    /// Something of one person only: their messages, devices, activation codes, questionnaires,
    /// feedback and reading tips.
    Person(Uuid),
    /// An object the server could not place: nobody, rather than the wrong person.
    Unknown,
}

impl Family<'_> {
    /// Who of the family receives a log line about `subject`, decided on the day of the access
    /// (`self.today`). A line about an entry goes exactly to those who may read the entry that
    /// day, so an entry hidden from someone leaves them no trace in their log either.
    pub fn audience(&self, subject: LineSubject) -> Vec<Uuid> {
        self.members
            .iter()
            .filter(|m| match subject {
                LineSubject::Dossier => self.has_own_access(m),
                LineSubject::Entry(scope) => self.may_see(m.id, scope),
                LineSubject::Person(id) => m.id == id && self.has_own_access(m),
                LineSubject::Unknown => false,
            })
            .map(|m| m.id)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARENT: u128 = 1;
    const PARENT_NO_GEZAG: u128 = 2;
    const CARER: u128 = 3;
    const YOUTH: u128 = 10;
    const SIBLING: u128 = 11;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
    }

    fn member(id: u128, role: PersonRole, birth: NaiveDate, gezag: bool, consent: bool) -> Member {
        Member {
            id: Uuid::from_u128(id),
            role,
            birth_date: birth,
            has_gezag: gezag,
            shares_with_parents: consent,
            // Given on the 16th birthday of the youth born on 15 June 2010.
            consent_on: consent.then(|| d(2026, 6, 15)),
        }
    }

    /// A family whose youth was born on 15 June 2010 and whose sibling is 12 or older on every test date.
    fn family(consent: bool) -> Vec<Member> {
        vec![
            member(PARENT, PersonRole::Parent, d(1980, 1, 1), true, false),
            member(PARENT_NO_GEZAG, PersonRole::Parent, d(1979, 1, 1), false, false),
            member(CARER, PersonRole::Carer, d(1960, 1, 1), false, false),
            member(YOUTH, PersonRole::Child, d(2010, 6, 15), false, consent),
            member(SIBLING, PersonRole::Child, d(2009, 1, 1), false, false),
        ]
    }

    fn scope(visibility: Visibility, child: Option<u128>) -> EntryScope {
        EntryScope { visibility, child_id: child.map(Uuid::from_u128) }
    }

    #[test]
    fn consent_given_before_16_does_not_carry_past_the_birthday() {
        let birth = d(2010, 6, 15);
        let j = Regime::Jeugdwet;
        // Said yes at 14: it does not count at 16, and the app asks again.
        assert!(!consent_holds(j, birth, true, Some(d(2024, 9, 1))));
        assert!(!consent_to_ask_again(j, birth, true, Some(d(2024, 9, 1)), d(2026, 6, 14)), "not before 16");
        assert!(consent_to_ask_again(j, birth, true, Some(d(2024, 9, 1)), d(2026, 6, 15)));
        // Said yes on or after the 16th birthday: it counts, nothing to ask.
        assert!(consent_holds(j, birth, true, Some(d(2026, 6, 15))));
        assert!(!consent_to_ask_again(j, birth, true, Some(d(2026, 6, 15)), d(2027, 1, 1)));
        // No consent, or a consent without a date (recorded before dates were kept): nothing holds.
        assert!(!consent_holds(j, birth, false, Some(d(2026, 7, 1))));
        assert!(!consent_holds(j, birth, true, None));
        assert!(!consent_to_ask_again(j, birth, false, None, d(2027, 1, 1)));
        // Under the WGBO the line is 12.
        assert!(consent_holds(Regime::Wgbo, birth, true, Some(d(2022, 6, 15))));
        assert!(!consent_holds(Regime::Wgbo, birth, true, Some(d(2022, 6, 14))));
        // Parents see a 16-year-old's entries only with a consent that holds.
        let mut members = family(true);
        members[3].consent_on = Some(d(2025, 1, 1));
        let f = Family { members: &members, regime: j, today: d(2026, 7, 1) };
        assert!(!f.may_see(Uuid::from_u128(PARENT), scope(Visibility::Child, Some(YOUTH))));
        members[3].consent_on = Some(d(2026, 6, 20));
        let f = Family { members: &members, regime: j, today: d(2026, 7, 1) };
        assert!(f.may_see(Uuid::from_u128(PARENT), scope(Visibility::Child, Some(YOUTH))));
    }

    #[test]
    fn age_counts_whole_years_and_birthdays() {
        let birth = d(2010, 6, 15);
        assert_eq!(age_on(birth, d(2022, 6, 14)), Some(11));
        assert_eq!(age_on(birth, d(2022, 6, 15)), Some(12));
        assert_eq!(age_on(birth, d(2026, 6, 14)), Some(15));
        assert_eq!(age_on(birth, d(2026, 6, 15)), Some(16));
        assert_eq!(age_on(birth, d(2010, 6, 15)), Some(0));
        assert_eq!(age_on(birth, d(2010, 6, 14)), None, "born tomorrow");
        let leap = d(2008, 2, 29);
        assert_eq!(age_on(leap, d(2024, 2, 28)), Some(15));
        assert_eq!(age_on(leap, d(2024, 2, 29)), Some(16));
        assert_eq!(age_on(leap, d(2025, 2, 28)), Some(16));
        assert_eq!(age_on(leap, d(2026, 2, 28)), Some(17), "not yet 18 before 1 March");
        assert_eq!(age_on(leap, d(2026, 3, 1)), Some(18));
        assert_eq!(age_on(leap, d(2027, 3, 1)), Some(19));
    }

    /// The policy, pinned: for the youth's age on and around the birthdays that matter,
    /// who of the family sees an entry of each visibility. Columns: parent with gezag,
    /// parent without gezag, other carer, the youth, an older sibling.
    #[test]
    fn policy_table_jeugdwet() {
        use Visibility::{Child, Family as Fam, ParentsOnly, StaffOnly, YouthOnly};
        /// (date, age, consent, visibility, about youth?, [parent, parent w/o gezag, carer, youth, sibling])
        type Row = (NaiveDate, u32, bool, Visibility, bool, [bool; 5]);
        #[rustfmt::skip]
        let table: &[Row] = &[
            // 11, the day before turning 12: parents with gezag only; the youth has no own access yet.
            (d(2022, 6, 14), 11, false, Child,       true,  [true,  false, false, false, false]),
            (d(2022, 6, 14), 11, false, YouthOnly,   true,  [false, false, false, false, false]),
            (d(2022, 6, 14), 11, false, Fam,         false, [true,  true,  true,  false, true ]),
            (d(2022, 6, 14), 11, false, ParentsOnly, true,  [true,  false, false, false, false]),
            (d(2022, 6, 14), 11, false, StaffOnly,   true,  [false, false, false, false, false]),
            // 12 on the birthday: the youth joins.
            (d(2022, 6, 15), 12, false, Child,       true,  [true,  false, false, true,  false]),
            (d(2022, 6, 15), 12, false, YouthOnly,   true,  [false, false, false, true,  false]),
            (d(2022, 6, 15), 12, false, Fam,         false, [true,  true,  true,  true,  true ]),
            (d(2022, 6, 15), 12, false, ParentsOnly, false, [true,  false, false, false, false]),
            (d(2022, 6, 15), 12, false, StaffOnly,   false, [false, false, false, false, false]),
            // 15, the day before turning 16: still the youth and the parents with gezag.
            (d(2026, 6, 14), 15, false, Child,       true,  [true,  false, false, true,  false]),
            (d(2026, 6, 14), 15, false, ParentsOnly, true,  [true,  false, false, false, false]),
            (d(2026, 6, 14), 15, false, YouthOnly,   true,  [false, false, false, true,  false]),
            // 16 on the birthday: the parents lose the youth's entries, whole-family ones stay.
            (d(2026, 6, 15), 16, false, Child,       true,  [false, false, false, true,  false]),
            (d(2026, 6, 15), 16, false, ParentsOnly, true,  [false, false, false, false, false]),
            (d(2026, 6, 15), 16, false, ParentsOnly, false, [true,  false, false, false, false]),
            (d(2026, 6, 15), 16, false, Fam,         false, [true,  true,  true,  true,  true ]),
            // 16 with consent: the parents with gezag see them again; consent does not widen to others.
            (d(2026, 6, 15), 16, true,  Child,       true,  [true,  false, false, true,  false]),
            (d(2026, 6, 15), 16, true,  ParentsOnly, true,  [true,  false, false, false, false]),
            (d(2026, 6, 15), 16, true,  YouthOnly,   true,  [false, false, false, true,  false]),
            // 17, with and without consent.
            (d(2027, 9, 1),  17, false, Child,       true,  [false, false, false, true,  false]),
            (d(2027, 9, 1),  17, true,  Child,       true,  [true,  false, false, true,  false]),
            // 18, the day before and on the birthday: adult, same as 16+.
            (d(2028, 6, 14), 17, false, Child,       true,  [false, false, false, true,  false]),
            (d(2028, 6, 15), 18, false, Child,       true,  [false, false, false, true,  false]),
            (d(2028, 6, 15), 18, true,  Child,       true,  [true,  false, false, true,  false]),
            (d(2028, 6, 15), 18, false, StaffOnly,   true,  [false, false, false, false, false]),
        ];
        let viewers = [PARENT, PARENT_NO_GEZAG, CARER, YOUTH, SIBLING];
        for (n, &(today, age, consent, visibility, about_youth, expected)) in table.iter().enumerate() {
            let members = family(consent);
            assert_eq!(age_on(members[3].birth_date, today), Some(age), "row {n}: age");
            let f = Family { members: &members, regime: Regime::Jeugdwet, today };
            let s = scope(visibility, about_youth.then_some(YOUTH));
            for (viewer, want) in viewers.iter().zip(expected) {
                assert_eq!(
                    f.may_see(Uuid::from_u128(*viewer), s),
                    want,
                    "row {n}: {visibility:?} about youth={about_youth} age {age} consent {consent}, viewer {viewer}"
                );
            }
        }
    }

    #[test]
    fn under_the_wgbo_consent_is_needed_from_12() {
        let members = family(false);
        let s = scope(Visibility::Child, Some(YOUTH));
        let at = |today| Family { members: &members, regime: Regime::Wgbo, today };
        assert!(at(d(2022, 6, 14)).may_see(Uuid::from_u128(PARENT), s), "11");
        assert!(!at(d(2022, 6, 15)).may_see(Uuid::from_u128(PARENT), s), "12");
        assert!(at(d(2022, 6, 15)).may_see(Uuid::from_u128(YOUTH), s));
        let consenting = family(true);
        let f = Family { members: &consenting, regime: Regime::Wgbo, today: d(2022, 6, 15) };
        assert!(f.may_see(Uuid::from_u128(PARENT), s));
    }

    #[test]
    fn strangers_bad_dates_and_foreign_children_see_nothing() {
        let members = family(false);
        let f = Family { members: &members, regime: Regime::Jeugdwet, today: d(2024, 1, 1) };
        for v in Visibility::ALL {
            assert!(!f.may_see(Uuid::from_u128(99), scope(v, None)), "not a member");
        }
        // An entry about someone who is not a child of this family: nobody but staff.
        assert!(!f.may_see(Uuid::from_u128(PARENT), scope(Visibility::Child, Some(99))));
        assert!(!f.may_see(Uuid::from_u128(PARENT), scope(Visibility::Child, Some(CARER))));
        assert!(!f.may_see(Uuid::from_u128(PARENT), scope(Visibility::Child, None)));
        // A youth born "in the future" is bad data: no access for anyone through them.
        let mut future = family(false);
        future[3].birth_date = d(2030, 1, 1);
        let f = Family { members: &future, regime: Regime::Jeugdwet, today: d(2024, 1, 1) };
        assert!(!f.may_see(Uuid::from_u128(YOUTH), scope(Visibility::Family, None)));
        assert!(!f.may_see(Uuid::from_u128(PARENT), scope(Visibility::Child, Some(YOUTH))));
        assert!(!f.has_own_access(&future[3]));
    }

    /// The access log follows the same rule as the entries, on the day of the access.
    #[test]
    fn log_lines_reach_only_who_may_see_their_subject() {
        let members = family(false);
        let ids = |v: &[u128]| v.iter().map(|&i| Uuid::from_u128(i)).collect::<Vec<_>>();
        let at = |today| Family { members: &members, regime: Regime::Jeugdwet, today };
        let fifteen = at(d(2026, 6, 14));
        let sixteen = at(d(2026, 6, 15));
        let youth_entry = LineSubject::Entry(scope(Visibility::Child, Some(YOUTH)));
        assert_eq!(fifteen.audience(youth_entry), ids(&[PARENT, YOUTH]));
        assert_eq!(sixteen.audience(youth_entry), ids(&[YOUTH]), "from 16 without consent: the youth only");
        assert_eq!(sixteen.audience(LineSubject::Person(Uuid::from_u128(YOUTH))), ids(&[YOUTH]));
        assert_eq!(sixteen.audience(LineSubject::Person(Uuid::from_u128(PARENT))), ids(&[PARENT]));
        assert_eq!(
            sixteen.audience(LineSubject::Dossier),
            ids(&[PARENT, PARENT_NO_GEZAG, CARER, YOUTH, SIBLING])
        );
        assert!(sixteen.audience(LineSubject::Entry(scope(Visibility::StaffOnly, None))).is_empty());
        assert!(sixteen.audience(LineSubject::Unknown).is_empty());
        assert!(sixteen.audience(LineSubject::Person(Uuid::from_u128(99))).is_empty(), "a stranger");
        // Before 12 the youth has no own access: no lines, not even about their own things.
        let eleven = at(d(2022, 6, 14));
        assert!(eleven.audience(LineSubject::Person(Uuid::from_u128(YOUTH))).is_empty());
        assert!(!eleven.audience(LineSubject::Dossier).contains(&Uuid::from_u128(YOUTH)));
    }
}
