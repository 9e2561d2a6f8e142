//! The usage report from a hand-made set of families against figures worked out by hand (the
//! working is in the comments), and from a generated two years of families against the rules
//! that keep small groups hidden.
#![allow(clippy::unwrap_used, clippy::needless_range_loop)]

use super::*;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn device(enrolled: &str, revoked: Option<&str>, by_family: bool) -> DeviceDays {
    DeviceDays { enrolled_on: d(enrolled), revoked_on: revoked.map(d), revoked_by_family: by_family }
}

fn parent(devices: Vec<DeviceDays>) -> Member {
    Member { role: PersonRole::Parent, birth_date: d("1985-03-01"), devices }
}

fn family(
    m: &str,
    t: &str,
    started: &str,
    closed: Option<&str>,
    members: Vec<Member>,
    events: Vec<Event>,
) -> Family {
    Family {
        municipality: m.into(),
        team: t.into(),
        started_on: Some(d(started)),
        closed_on: closed.map(d),
        members,
        events,
    }
}

fn active(bucket: &str, m: &str, t: &str, persons: u32) -> ActivityCount {
    ActivityCount { bucket: bucket.into(), municipality: m.into(), team: t.into(), persons }
}

const DS: &str = "Demostad";
const PD: &str = "Proefdorp";

fn dataset() -> (Vec<Family>, Vec<ActivityCount>) {
    let mut v = Vec::new();
    // Demostad, Team Noord: 8 families in care since September 2026. The first six have a parent
    // with the app (and a second device each: five revoked by the family in October, one in
    // November); the first also a youth of 17 with the app. Six questions as feedback in
    // November; five messages answered after 1 to 5 hours (median 3 h) and one unanswered;
    // five reading tips opened.
    for i in 0..8 {
        let mut members = Vec::new();
        let mut events = Vec::new();
        if i < 6 {
            let revoked = if i < 5 { "2026-10-10" } else { "2026-11-10" };
            members.push(parent(vec![
                device("2026-09-05", None, false),
                device("2026-09-05", Some(revoked), true),
            ]));
            events.push(Event::Feedback { on: d("2026-11-03"), kind: FeedbackKind::Vraag });
        }
        if i == 0 {
            members.push(Member {
                role: PersonRole::Child,
                birth_date: d("2009-06-01"),
                devices: vec![device("2026-09-20", None, false)],
            });
            events.push(Event::FamilyMessage { on: d("2026-11-20"), answered_after_minutes: None });
        }
        if i < 5 {
            let minutes = 60 * (u32::try_from(i).unwrap() + 1);
            events.push(Event::FamilyMessage { on: d("2026-11-12"), answered_after_minutes: Some(minutes) });
            events.push(Event::TipOpened { on: d("2026-11-14") });
        }
        v.push(family(DS, "Team Noord", "2026-09-01", None, members, events));
    }
    // A year earlier Team Noord had five other families in care, none with the app.
    for _ in 0..5 {
        v.push(family(DS, "Team Noord", "2025-01-01", Some("2025-12-31"), vec![parent(vec![])], vec![]));
    }
    // Team Zuid: 3 families, 2 with the app, two questions.
    for i in 0..3 {
        let members = if i < 2 { vec![parent(vec![device("2026-10-01", None, false)])] } else { vec![] };
        let events = if i < 2 {
            vec![Event::Feedback { on: d("2026-11-05"), kind: FeedbackKind::Vraag }]
        } else {
            vec![]
        };
        v.push(family(DS, "Team Zuid", "2026-10-01", None, members, events));
    }
    // Proefdorp, Team Centrum: 10 families in care, 5 with a parent with the app, 2 tips opened.
    for i in 0..10 {
        let members = if i < 5 { vec![parent(vec![device("2026-06-01", None, false)])] } else { vec![] };
        let events = if i < 2 { vec![Event::TipOpened { on: d("2026-11-02") }] } else { vec![] };
        v.push(family(PD, "Team Centrum", "2026-05-01", None, members, events));
    }
    // Before the period: a family closed in October counts in neither November nor its team.
    v.push(family(PD, "Team Centrum", "2026-01-01", Some("2026-10-31"), vec![], vec![]));
    let activity = vec![
        active("2026-11", DS, "Team Noord", 7),
        active("2026-11", DS, "Team Zuid", 2),
        active("2026-11", PD, "Team Centrum", 6),
        active("2026-W46", DS, "Team Noord", 5),
        active("2026-W46", PD, "Team Centrum", 5),
    ];
    (v, activity)
}

fn row<'a>(r: &'a UsageReport, m: &str, t: Option<&str>) -> &'a UsageRow {
    r.rows.iter().find(|row| row.municipality == m && row.team.as_deref() == t).unwrap()
}

/// (Noord, Zuid, Demostad, Centrum, Proefdorp, all) for one measure of the current period.
fn line(r: &UsageReport, m: Measure) -> [Option<u32>; 6] {
    [
        row(r, DS, Some("Team Noord")).current.get(m),
        row(r, DS, Some("Team Zuid")).current.get(m),
        row(r, DS, None).current.get(m),
        row(r, PD, Some("Team Centrum")).current.get(m),
        row(r, PD, None).current.get(m),
        row(r, "", None).current.get(m),
    ]
}

#[test]
fn periods_parse_and_name_themselves() {
    assert_eq!(UsagePeriod::parse("2026-11"), Ok(UsagePeriod::Month { year: 2026, month: 11 }));
    assert_eq!(UsagePeriod::parse("2026-q4"), Ok(UsagePeriod::Quarter { year: 2026, quarter: 4 }));
    assert_eq!(UsagePeriod::parse(" 2026-H2 "), Ok(UsagePeriod::Half { year: 2026, half: 2 }));
    for bad in ["2026-13", "2026-00", "2026-1", "2026", "november", "2026-Q5", "1999-01", "2026-11-01"] {
        assert_eq!(UsagePeriod::parse(bad), Err(UsagePeriodError), "{bad}");
    }
    let nov = UsagePeriod::parse("2026-11").unwrap();
    assert_eq!((nov.code(), nov.label()), ("2026-11".into(), "november 2026".into()));
    assert_eq!((nov.first_day(), nov.last_day()), (d("2026-11-01"), d("2026-11-30")));
    assert_eq!(UsagePeriod::parse("2026-12").unwrap().last_day(), d("2026-12-31"));
    assert_eq!(UsagePeriod::parse("2026-H2").unwrap().months().len(), 6);
    // 1 November 2026 is a Sunday; the Thursdays are the 5th, 12th, 19th and 26th.
    assert_eq!(nov.weeks(), vec![d("2026-11-02"), d("2026-11-09"), d("2026-11-16"), d("2026-11-23")]);
    assert_eq!(week_code(d("2026-11-02")), "2026-W45");
    assert_eq!(week_code(d("2027-01-01")), "2026-W53");
    assert_eq!(
        activity_buckets(d("2026-11-10")),
        ["2026-W46".to_owned(), "2026-11".into(), "2026-Q4".into(), "2026-H2".into()]
    );
    assert_eq!(RoleGroup::of(PersonRole::Child, d("2010-12-01"), d("2026-11-30")), RoleGroup::Youth12To15);
    assert_eq!(RoleGroup::of(PersonRole::Child, d("2010-11-30"), d("2026-11-30")), RoleGroup::Youth16Plus);
}

#[test]
fn a_month_against_figures_worked_out_by_hand() {
    let (families, activity) = dataset();
    let r = report(UsagePeriod::parse("2026-11").unwrap(), &families, &activity, &[], Some(d("2025-01-01")));
    use Measure as M;
    // Families in care: Noord 8, Zuid 3. Zuid is under 5, so Noord is hidden too (else
    // Demostad 11 − Noord 8 gives Zuid away). Centrum 10; the closed family does not count.
    assert_eq!(line(&r, M::FamiliesInCare), [None, None, Some(11), Some(10), Some(10), Some(21)]);
    // With the app: Noord 6, Zuid 2 (same pattern), Centrum 5.
    assert_eq!(line(&r, M::FamiliesReached), [None, None, Some(8), Some(5), Some(5), Some(13)]);
    assert_eq!(line(&r, M::EnrolledParents), [None, None, Some(8), Some(5), Some(5), Some(13)]);
    // One youth of 17: hidden everywhere, the zeros of the other groups give nothing away.
    assert_eq!(line(&r, M::EnrolledYouth16Plus), [None; 6]);
    assert_eq!(line(&r, M::EnrolledYouth12To15), [None; 6]);
    // Reach: 8 of 11 = 72.7 → 73 %; 5 of 10; 13 of 21 = 61.9 → 62 %.
    assert_eq!(row(&r, DS, None).current.reach_percent, Some(73));
    assert_eq!(row(&r, PD, None).current.reach_percent, Some(50));
    assert_eq!(row(&r, "", None).current.reach_percent, Some(62));
    assert_eq!(row(&r, DS, Some("Team Noord")).current.reach_percent, None);
    // Questions: Noord 6, Zuid 2 → Noord hidden with Zuid; Proefdorp has none (a hidden zero).
    assert_eq!(line(&r, M::FeedbackVraag), [None, None, Some(8), None, None, Some(8)]);
    // Messages: Noord 6, of which 5 answered after 1, 2, 3, 4, 5 hours: median 3.0 hours.
    assert_eq!(line(&r, M::FamilyMessages), [Some(6), None, Some(6), None, None, Some(6)]);
    assert_eq!(line(&r, M::FamilyMessagesAnswered), [Some(5), None, Some(5), None, None, Some(5)]);
    assert_eq!(row(&r, DS, Some("Team Noord")).current.median_answer_hours, Some(3.0));
    assert_eq!(row(&r, "", None).current.median_answer_hours, Some(3.0));
    // Tips opened: Noord 5, Centrum 2. Proefdorp (2) is the one hidden municipality and
    // Demostad hides no team, so the grand total is hidden: 7 − 5 would give Proefdorp away.
    assert_eq!(line(&r, M::TipsOpened), [Some(5), None, Some(5), None, None, None]);
    // Revoked by the family in November: one device in Noord.
    assert_eq!(line(&r, M::DevicesRevokedByFamily), [None; 6]);
    // Active: Noord 7, Zuid 2, Centrum 6; week 46: Noord 5, Centrum 5, the other weeks none.
    assert_eq!(line(&r, M::ActivePersons), [None, None, Some(9), Some(6), Some(6), Some(15)]);
    let weeks: Vec<Option<u32>> = row(&r, "", None).current.weeks.iter().map(|w| w.value).collect();
    assert_eq!(weeks, [None, Some(10), None, None]);
    assert_eq!(row(&r, DS, Some("Team Noord")).current.weeks[1].value, Some(5));
    assert!(r.rows.iter().all(|row| row.current.activity_measured));
    // The year before: Noord had 5 families in care, none with the app; no activity counted.
    let prev = |m: &str, t: Option<&str>, measure| row(&r, m, t).previous.get(measure);
    assert_eq!(r.previous_period, UsagePeriod::Month { year: 2025, month: 11 });
    assert_eq!(prev(DS, Some("Team Noord"), M::FamiliesInCare), Some(5));
    assert_eq!(prev(DS, None, M::FamiliesInCare), Some(5));
    assert_eq!(prev("", None, M::FamiliesInCare), Some(5));
    assert_eq!(prev("", None, M::FamiliesReached), None);
    assert_eq!(row(&r, "", None).previous.reach_percent, None);
    // Order: the teams of each municipality, its total, then all.
    let order: Vec<(String, Option<String>)> =
        r.rows.iter().map(|r| (r.municipality.clone(), r.team.clone())).collect();
    assert_eq!(
        order,
        [
            (DS.into(), Some("Team Noord".into())),
            (DS.into(), Some("Team Zuid".into())),
            (DS.into(), None),
            (PD.into(), Some("Team Centrum".into())),
            (PD.into(), None),
            (String::new(), None),
        ]
    );
}

#[test]
fn a_quarter_hides_what_one_of_its_months_hides() {
    let (families, activity) = dataset();
    let counted = Some(d("2025-01-01"));
    let october = report(UsagePeriod::parse("2026-10").unwrap(), &families, &activity, &[], counted);
    let quarter = report(UsagePeriod::parse("2026-Q4").unwrap(), &families, &activity, &[], counted);
    let m = Measure::DevicesRevokedByFamily;
    // October: five devices revoked in Noord, shown. November: one, hidden. The quarter's six
    // would give November away (6 − 5), so the quarter hides it.
    assert_eq!(row(&october, DS, Some("Team Noord")).current.get(m), Some(5));
    assert_eq!(row(&quarter, DS, Some("Team Noord")).current.get(m), None);
    assert_eq!(row(&quarter, "", None).current.get(m), None);
    // Families in care are shown in every month of the quarter: the quarter shows them too.
    assert_eq!(row(&quarter, "", None).current.get(Measure::FamiliesInCare), Some(22));
    // Activity of a period that began before counting did is not known.
    let early =
        report(UsagePeriod::parse("2026-11").unwrap(), &families, &activity, &[], Some(d("2026-11-15")));
    assert!(!row(&early, "", None).current.activity_measured);
    assert_eq!(row(&early, "", None).current.get(Measure::ActivePersons), None);
    // Weeks are counted from their Monday: the 16th and the 23rd.
    assert_eq!(row(&early, "", None).current.weeks.len(), 2);
}

#[test]
fn csv_and_html_carry_the_figures_and_no_hidden_one() {
    let (families, activity) = dataset();
    let r = report(UsagePeriod::parse("2026-11").unwrap(), &families, &activity, &[], Some(d("2025-01-01")));
    let csv = to_csv(&r);
    let mut reader =
        csv::ReaderBuilder::new().delimiter(b';').from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
    let header = reader.headers().unwrap().clone();
    assert_eq!(header.len(), 3 + Measure::ALL.len() + 2 + 2 * UsageQuestion::ALL.len());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), r.rows.len() * 2);
    let zuid = &rows[2];
    assert_eq!((&zuid[1], &zuid[2], &zuid[3]), ("Team Zuid", "2026-11", ""));
    let all = &rows[10];
    assert_eq!((&all[0], &all[3], &all[4]), ("Alle gemeenten", "21", "13"));
    let html = to_html(&r, d("2026-12-07"));
    assert!(html.contains("november 2026") && html.contains("november 2025") && html.contains("62%"));
}

/// A small generator: the same families on every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below
    }
}

fn generated() -> (Vec<Family>, Vec<ActivityCount>) {
    let teams =
        [(DS, "Team Noord"), (DS, "Team Zuid"), (DS, "Team Oost"), (PD, "Team Centrum"), (PD, "Team Dorp")];
    let mut rng = Lcg(7);
    let start = d("2025-01-01");
    let day = |rng: &mut Lcg, from: NaiveDate, span: u64| {
        from + Duration::days(i64::try_from(rng.next(span)).unwrap())
    };
    let mut families = Vec::new();
    for i in 0..260 {
        // Team sizes differ a lot, so some teams are small in some months.
        let (m, t) = teams[[0, 0, 0, 1, 2, 3, 3, 4][i % 8]];
        let started = day(&mut rng, start, 700);
        let closed = (rng.next(3) > 0).then(|| day(&mut rng, started, 300));
        let devices = if rng.next(2) == 0 {
            let enrolled = day(&mut rng, started, 30);
            let revoked = (rng.next(4) == 0).then(|| day(&mut rng, enrolled, 200));
            vec![DeviceDays {
                enrolled_on: enrolled,
                revoked_on: revoked,
                revoked_by_family: rng.next(2) == 0,
            }]
        } else {
            Vec::new()
        };
        let mut events = Vec::new();
        for _ in 0..rng.next(6) {
            let on = day(&mut rng, started, 250);
            events.push(match rng.next(5) {
                0 => Event::Feedback { on, kind: FeedbackKind::ALL[usize::try_from(rng.next(4)).unwrap()] },
                1 => Event::QuestionnaireSent { on },
                2 => Event::QuestionnaireAnsweredInApp { on },
                3 => Event::FamilyMessage {
                    on,
                    answered_after_minutes: Some(u32::try_from(rng.next(3000)).unwrap()),
                },
                _ => Event::TipOpened { on },
            });
        }
        families.push(Family {
            municipality: m.into(),
            team: t.into(),
            started_on: Some(started),
            closed_on: closed,
            members: vec![parent(devices)],
            events,
        });
    }
    let mut activity = Vec::new();
    for month in 0..24 {
        let (year, month) = (2025 + month / 12, month % 12 + 1);
        for (m, t) in teams {
            activity.push(active(&format!("{year}-{month:02}"), m, t, u32::try_from(rng.next(12)).unwrap()));
        }
    }
    (families, activity)
}

/// Over two generated years, every month, quarter and half: no shown figure under 5, no team
/// or municipality alone hidden under a shown total, and a longer period shows only what each
/// of its months shows.
#[test]
fn two_generated_years_keep_every_small_group_hidden() {
    let (families, activity) = generated();
    let mut periods: Vec<UsagePeriod> = Vec::new();
    for year in [2025, 2026] {
        periods.extend((1..=12).map(|month| UsagePeriod::Month { year, month }));
        periods.extend((1..=4).map(|quarter| UsagePeriod::Quarter { year, quarter }));
        periods.extend((1..=2).map(|half| UsagePeriod::Half { year, half }));
    }
    let (mut shown, mut hidden) = (0, 0);
    for p in periods {
        let r = report(p, &families, &activity, &[], Some(d("2025-01-01")));
        let keys: Vec<RowKey> = r
            .rows
            .iter()
            .map(|row| RowKey { municipality: row.municipality.clone(), team: row.team.clone() })
            .collect();
        let raw = table(&keys, &count(p, &families, &activity, &[]).teams);
        for m in Measure::ALL {
            let value = |i: usize| r.rows[i].current.get(m);
            for (i, row) in raw.iter().enumerate() {
                match value(i) {
                    Some(v) => {
                        assert!(v >= MIN_GROUP, "{m:?} {} shows {v}", p.code());
                        assert_eq!(v, row.count(m.index()));
                        assert!(
                            row.families(m.index()) >= MIN_GROUP,
                            "{m:?} {} from {} families",
                            p.code(),
                            row.families(m.index())
                        );
                        shown += 1;
                    }
                    None => hidden += 1,
                }
            }
            // A shown total never has exactly one hidden non-zero part.
            let hides = |i: usize| value(i).is_none() && raw[i].count(m.index()) > 0;
            let mut start = 0;
            let mut totals = Vec::new();
            for i in 0..keys.len() {
                if keys[i].team.is_none() {
                    if !keys[i].municipality.is_empty() {
                        if value(i).is_some() {
                            assert_ne!((start..i).filter(|j| hides(*j)).count(), 1, "{m:?} {}", p.code());
                        }
                        totals.push(i);
                    }
                    start = i + 1;
                }
            }
            if value(keys.len() - 1).is_some() {
                assert_ne!(totals.iter().filter(|i| hides(**i)).count(), 1, "{m:?} {}", p.code());
            }
            // A longer period shows a figure only where each month shows it or hides a zero.
            if p.months().len() > 1 {
                for month in p.months() {
                    let mr = report(month, &families, &activity, &[], Some(d("2025-01-01")));
                    let mraw = table(&keys, &count(month, &families, &activity, &[]).teams);
                    for i in 0..keys.len() {
                        if value(i).is_some() {
                            assert!(
                                mr.rows[i].current.get(m).is_some() || mraw[i].count(m.index()) == 0,
                                "{m:?} {} shows what {} hides",
                                p.code(),
                                month.code()
                            );
                        }
                    }
                }
            }
        }
    }
    // The generator makes both kinds, or the test proves nothing.
    assert!(shown > 500 && hidden > 500, "shown {shown}, hidden {hidden}");
}

/// A single randomized answer says nothing for sure: both answers are possible whether the
/// person used the part or not, and "yes" is exactly three times as likely from someone who did.
#[test]
fn a_single_shared_answer_is_deniable() {
    let coins = [(false, false), (false, true), (true, false), (true, true)];
    for truth in [false, true] {
        let answers: Vec<bool> = coins.iter().map(|(a, b)| randomize(truth, *a, *b)).collect();
        assert!(answers.contains(&true) && answers.contains(&false), "truth {truth}: {answers:?}");
    }
    let yes = |truth: bool| coins.iter().filter(|(a, b)| randomize(truth, *a, *b)).count();
    assert_eq!((yes(true), yes(false)), (3, 1), "P(yes | did) = 3/4, P(yes | did not) = 1/4");
}

/// Over many simulated apps the estimate falls within its stated 95% interval about as often
/// as it says: 200 runs of 400 apps each, true share 30%; at least 180 runs (90%) cover it.
#[test]
fn estimates_from_many_simulated_apps_fall_within_their_interval() {
    let mut rng = Lcg(42);
    let mut covered = 0;
    for _ in 0..200 {
        let (n, mut yes) = (400u32, 0u32);
        for i in 0..n {
            let truth = i % 10 < 3;
            if randomize(truth, rng.next(2) == 1, rng.next(2) == 1) {
                yes += 1;
            }
        }
        let (share, margin) = estimate(n, yes).unwrap();
        assert!(margin > 5.0 && margin < 12.0, "the interval is as wide as the noise: {margin}");
        if (share - 30.0).abs() <= margin {
            covered += 1;
        }
    }
    assert!(covered >= 180, "covered {covered} of 200");
    assert_eq!(estimate(0, 0), None);
    assert_eq!(estimate(4, 4), Some((100.0, 0.0)));
}

#[test]
fn the_device_keeps_one_month_and_sends_the_one_before() {
    let mut r = SharingRecord::default();
    r.note("2026-11", UsageQuestion::Dossier);
    r.note("2026-11", UsageQuestion::InzageExport);
    assert_eq!(r.report(&[true; COINS]), None, "nothing to send during the month");
    r.roll("2026-12");
    let share = r.report(&[true; COINS]).unwrap();
    assert_eq!(share.month, "2026-11");
    // With every first coin "tell the truth": exactly what was used.
    let said: Vec<UsageQuestion> = share.answers.iter().filter(|(_, v)| **v).map(|(q, _)| *q).collect();
    assert_eq!(said, [UsageQuestion::Dossier, UsageQuestion::InzageExport]);
    assert_eq!(share.check(), Ok(UsagePeriod::Month { year: 2026, month: 11 }));
    // Every answer from the second coin: all "no", whatever was used.
    let mut coins = [false; COINS];
    assert!(r.report(&coins).unwrap().answers.values().all(|v| !v));
    coins[1] = true;
    assert!(r.report(&coins).unwrap().answers[&UsageQuestion::Dossier]);
    // A report missing a question, or for a quarter, is not whole.
    let mut broken = share.clone();
    broken.answers.remove(&UsageQuestion::Taken);
    assert!(broken.check().is_err());
    assert!(UsageShare { month: "2026-Q4".into(), answers: share.answers.clone() }.check().is_err());
}

/// Shared reports count per team and month; the estimates show only where the number of
/// reports is shown, and a quarter adds up its months.
#[test]
fn shared_reports_give_estimates_only_for_groups_of_five_or_more() {
    let (families, activity) = dataset();
    let mut shared = Vec::new();
    // Team Noord: 8 reports in November, 6 of them "yes" to Inzage export; Zuid: 2 reports.
    for (team, reports, yes) in [("Team Noord", 8, 6), ("Team Zuid", 2, 2)] {
        for q in UsageQuestion::ALL {
            let yes = if q == UsageQuestion::InzageExport { yes } else { 0 };
            shared.push(SharedCount {
                month: "2026-11".into(),
                municipality: DS.into(),
                team: team.into(),
                question: q,
                reports,
                yes,
            });
        }
    }
    let r =
        report(UsagePeriod::parse("2026-11").unwrap(), &families, &activity, &shared, Some(d("2025-01-01")));
    let export = |row: &UsageRow| row.current.shared[5];
    // Zuid has 2 reports: hidden, and Noord with it; Demostad has 10: 8 yes of 10 → 2·0.8 − 0.5 = 110% → 100%.
    assert_eq!(line(&r, Measure::UsageReportsShared), [None, None, Some(10), None, None, Some(10)]);
    assert_eq!(export(row(&r, DS, Some("Team Noord"))).percent, None);
    let ds = export(row(&r, DS, None));
    assert_eq!(ds.question, UsageQuestion::InzageExport);
    assert_eq!(ds.percent, Some(100.0));
    assert!(ds.margin.unwrap() > 40.0, "ten reports say little: {:?}", ds.margin);
    let q4 =
        report(UsagePeriod::parse("2026-Q4").unwrap(), &families, &activity, &shared, Some(d("2025-01-01")));
    assert_eq!(row(&q4, "", None).current.get(Measure::UsageReportsShared), Some(10));
}

/// A figure needs five families behind it, not five events: seven messages of one family, or
/// five questions from two, show nothing, however many families the team has.
#[test]
fn many_events_of_few_families_show_nothing() {
    let mut v = Vec::new();
    for i in 0..9 {
        let events = match i {
            0 => (0..7)
                .map(|_| Event::FamilyMessage { on: d("2026-11-10"), answered_after_minutes: Some(30) })
                .collect(),
            1 | 2 => {
                (0..3).map(|_| Event::Feedback { on: d("2026-11-11"), kind: FeedbackKind::Vraag }).collect()
            }
            _ => vec![],
        };
        v.push(family(DS, "Team Noord", "2026-01-01", None, vec![parent(vec![])], events));
    }
    let r = report(UsagePeriod::parse("2026-11").unwrap(), &v, &[], &[], None);
    let all = row(&r, "", None);
    assert_eq!(all.current.get(Measure::FamiliesInCare), Some(9));
    assert_eq!(all.current.get(Measure::FamilyMessages), None, "seven messages, one family");
    assert_eq!(all.current.get(Measure::FamilyMessagesAnswered), None);
    assert_eq!(all.current.median_answer_hours, None);
    assert_eq!(all.current.get(Measure::FeedbackVraag), None, "six questions, two families");
}
