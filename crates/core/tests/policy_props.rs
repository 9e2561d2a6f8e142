//! Properties of the access policy over random birth dates (leap days included) and the days
//! around every birthday that matters: 12 (own access) and 16 (the parents need consent).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Datelike, Duration, NaiveDate};
use cjg_core::entry::{PersonRole, Visibility};
use cjg_core::policy::{age_on, EntryScope, Family, Member, Regime};
use proptest::prelude::*;
use uuid::Uuid;

const PARENT: Uuid = Uuid::from_u128(1);
const PARENT_NO_GEZAG: Uuid = Uuid::from_u128(2);
const CARER: Uuid = Uuid::from_u128(3);
const YOUTH: Uuid = Uuid::from_u128(10);
const SIBLING: Uuid = Uuid::from_u128(11);

/// The birthday in `year` as the law counts it: 29 February falls on 1 March in a common year.
fn birthday_in(birth: NaiveDate, year: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, birth.month(), birth.day())
        .unwrap_or_else(|| NaiveDate::from_ymd_opt(year, 3, 1).unwrap())
}

/// The day a person born on `birth` turns `age`.
fn turns(birth: NaiveDate, age: u32) -> NaiveDate {
    birthday_in(birth, birth.year() + i32::try_from(age).unwrap())
}

fn date() -> impl Strategy<Value = NaiveDate> {
    // 1990 to 2030, every day, leap days included.
    (0i64..14_975).prop_map(|d| NaiveDate::from_ymd_opt(1990, 1, 1).unwrap() + Duration::days(d))
}

fn leap_day() -> impl Strategy<Value = NaiveDate> {
    prop::sample::select(vec![1992, 1996, 2000, 2004, 2008, 2012, 2016, 2020])
        .prop_map(|y| NaiveDate::from_ymd_opt(y, 2, 29).unwrap())
}

fn birth() -> impl Strategy<Value = NaiveDate> {
    prop_oneof![4 => date(), 1 => leap_day()]
}

fn family(youth_birth: NaiveDate, consent: bool) -> Vec<Member> {
    let adult = NaiveDate::from_ymd_opt(1960, 5, 5).unwrap();
    // A consent, when given, was given at 17: old enough to count.
    let at_17 = youth_birth.checked_add_months(chrono::Months::new(17 * 12));
    let m = |id, role, birth_date, has_gezag, shares_with_parents: bool| Member {
        id,
        role,
        birth_date,
        has_gezag,
        shares_with_parents,
        consent_on: if shares_with_parents { at_17 } else { None },
    };
    vec![
        m(PARENT, PersonRole::Parent, adult, true, false),
        m(PARENT_NO_GEZAG, PersonRole::Parent, adult, false, false),
        m(CARER, PersonRole::Carer, adult, false, false),
        m(YOUTH, PersonRole::Child, youth_birth, false, consent),
        m(SIBLING, PersonRole::Child, youth_birth - Duration::days(365 * 3), false, false),
    ]
}

fn about_youth(visibility: Visibility) -> EntryScope {
    EntryScope { visibility, child_id: Some(YOUTH) }
}

proptest! {
    /// The age is the number of birthdays (as the law counts them) that have passed.
    #[test]
    fn age_counts_birthdays(birth in birth(), today in date()) {
        let expected = if today < birth {
            None
        } else {
            Some((0u32..).take_while(|n| turns(birth, *n) <= today).last().unwrap())
        };
        prop_assert_eq!(age_on(birth, today), expected);
    }

    /// A youth reads the app from the day they turn 12, not the day before.
    #[test]
    fn own_access_starts_on_the_twelfth_birthday(birth in birth(), consent in any::<bool>()) {
        let members = family(birth, consent);
        let youth = members[3];
        let on = |today| Family { members: &members, regime: Regime::Jeugdwet, today }.has_own_access(&youth);
        let twelve = turns(birth, 12);
        prop_assert!(!on(twelve - Duration::days(1)));
        prop_assert!(on(twelve));
    }

    /// Under the Jeugdwet the parents with gezag read the youth's entries until the 16th
    /// birthday, and after it only with consent; under the WGBO the line is 12.
    #[test]
    fn the_parents_need_consent_from_the_line(birth in birth(), consent in any::<bool>(), wgbo in any::<bool>()) {
        let (regime, line) = if wgbo { (Regime::Wgbo, 12) } else { (Regime::Jeugdwet, 16) };
        let members = family(birth, consent);
        let parent_sees = |today| {
            Family { members: &members, regime, today }.may_see(PARENT, about_youth(Visibility::Child))
        };
        let day = turns(birth, line);
        prop_assert!(parent_sees(day - Duration::days(1)));
        prop_assert_eq!(parent_sees(day), consent);
    }

    /// Whatever the day and the consent: staff-only notes reach no one; a parent without gezag
    /// and a carer never read what is about one child; a youth never reads another's own entry.
    #[test]
    fn what_never_leaks(birth in birth(), today in date(), consent in any::<bool>(), wgbo in any::<bool>()) {
        let members = family(birth, consent);
        let regime = if wgbo { Regime::Wgbo } else { Regime::Jeugdwet };
        let f = Family { members: &members, regime, today };
        for viewer in [PARENT, PARENT_NO_GEZAG, CARER, YOUTH, SIBLING] {
            prop_assert!(!f.may_see(viewer, about_youth(Visibility::StaffOnly)));
        }
        for viewer in [PARENT_NO_GEZAG, CARER] {
            for v in [Visibility::Child, Visibility::YouthOnly, Visibility::ParentsOnly] {
                prop_assert!(!f.may_see(viewer, about_youth(v)), "{viewer} {v:?}");
            }
        }
        prop_assert!(!f.may_see(SIBLING, about_youth(Visibility::YouthOnly)));
        prop_assert!(!f.may_see(SIBLING, about_youth(Visibility::Child)));
        prop_assert!(!f.may_see(PARENT, about_youth(Visibility::YouthOnly)));
        // Someone not in the family sees nothing at all.
        let whole_family = EntryScope { visibility: Visibility::Family, child_id: None };
        prop_assert!(!f.may_see(Uuid::from_u128(99), whole_family));
    }
}
