//! The report from a generated set of answers against figures worked out by hand (the working
//! is in the comments), rounded as the performance plan rounds.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::questionnaire::{Agree as A, Answer, Answers};

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// `items`: one letter per closing item (E eens, O oneens, N n.v.t.); `ratings`: three digits.
fn answered(m: &str, t: &str, on: &str, items: &str, ratings: &str) -> ClosingRecord {
    let mut a = Answers::new();
    for (k, c) in CLOSING_ITEMS.iter().zip(items.chars()) {
        let v = match c {
            'E' => A::Eens,
            'O' => A::Oneens,
            _ => A::Nvt,
        };
        a.insert((*k).into(), Answer::Agree(v));
    }
    for (k, c) in CLOSING_RATINGS.iter().zip(ratings.chars()) {
        a.insert((*k).into(), Answer::Rating(c.to_digit(10).unwrap() as u8));
    }
    ClosingRecord { municipality: m.into(), team: t.into(), sent_on: d(on), answers: Some(a) }
}

fn unanswered(m: &str, t: &str, on: &str) -> ClosingRecord {
    ClosingRecord { municipality: m.into(), team: t.into(), sent_on: d(on), answers: None }
}

fn dataset() -> Vec<ClosingRecord> {
    let mut v = Vec::new();
    // Demostad, Team Noord, 2026-H1: 8 of 10 answered.
    //            zelf_verder eigen_plan betrokken samenwerking | algemeen coach hulp
    for (items, ratings) in [
        ("EEEE", "553"),
        ("EEEE", "453"),
        ("EEOE", "453"),
        ("EEOE", "453"),
        ("EENE", "553"),
        ("ENNE", "353"),
        ("ONEE", "453"),
        ("NNEE", "543"),
    ] {
        v.push(answered("Demostad", "Team Noord", "2026-03-15", items, ratings));
    }
    v.push(unanswered("Demostad", "Team Noord", "2026-01-02"));
    v.push(unanswered("Demostad", "Team Noord", "2026-06-30"));
    // Team Oost: 6 of 6, all eens, all 4.
    for _ in 0..6 {
        v.push(answered("Demostad", "Team Oost", "2026-02-01", "EEEE", "444"));
    }
    // Team Zuid: 3 of 4, all oneens, all 2.
    for _ in 0..3 {
        v.push(answered("Demostad", "Team Zuid", "2026-05-20", "OOOO", "222"));
    }
    v.push(unanswered("Demostad", "Team Zuid", "2026-05-21"));
    // Proefdorp, Team Centrum: 5 of 5 (exactly the minimum: shown).
    for items in ["EEEE", "EEEE", "EEEE", "OEEE", "NEEE"] {
        v.push(answered("Proefdorp", "Team Centrum", "2026-04-01", items, "555"));
    }
    // A year earlier: Demostad Noord, 5 of 20.
    for r in ["4", "4", "4", "4", "5"] {
        v.push(answered("Demostad", "Team Noord", "2025-02-10", "EEEE", &format!("{r}44")));
    }
    for _ in 0..15 {
        v.push(unanswered("Demostad", "Team Noord", "2025-06-01"));
    }
    // Outside both periods: ignored.
    v.push(answered("Demostad", "Team Noord", "2026-07-01", "OOOO", "111"));
    v.push(answered("Demostad", "Team Noord", "2025-12-31", "OOOO", "111"));
    v
}

fn row<'a>(r: &'a IndicatorReport, m: &str, t: Option<&str>) -> &'a ReportRow {
    r.rows.iter().find(|x| x.municipality == m && x.team.as_deref() == t).unwrap()
}

fn s(eens: u8, oneens: u8, nvt: u8) -> Option<AgreeShares> {
    Some(AgreeShares { eens, oneens, nvt })
}

#[test]
fn report_equals_the_hand_computed_table() {
    let r = build(Period::parse("2026-H1").unwrap(), &dataset());
    assert_eq!(r.previous_period, Period::Half { year: 2025, half: 1 });
    // Rows: teams of each municipality in name order, its total, then the grand total.
    let order: Vec<(String, Option<String>)> =
        r.rows.iter().map(|x| (x.municipality.clone(), x.team.clone())).collect();
    assert_eq!(order.len(), 7);
    assert_eq!(order[3], ("Demostad".into(), None));
    assert_eq!(order[6], (String::new(), None));

    let noord = &row(&r, "Demostad", Some("Team Noord")).current;
    assert_eq!((noord.sent, noord.answered, noord.response_rate, noord.suppressed), (10, 8, Some(80), false));
    // zelf_verder 6/1/1 of 8 = 75 / 12.5 / 12.5: the tie goes to the earlier column → 75/13/12.
    // eigen_plan 5/0/3 = 62.5 / 0 / 37.5 → 63/0/37. betrokken 4/2/2 → 50/25/25. samenwerking 8/0/0.
    assert_eq!(noord.items, vec![s(75, 13, 12), s(63, 0, 37), s(50, 25, 25), s(100, 0, 0)]);
    // algemeen 34/8 = 4.25 → 4.3 (half up); coach 39/8 = 4.875 → 4.9; hulp 24/8 = 3.0.
    assert_eq!(noord.ratings, vec![Some(4.3), Some(4.9), Some(3.0)]);

    // Zuid has 3 answers: hidden. Oost (6) would then be the total minus Noord minus Zuid, so
    // the smallest shown team is hidden too; Noord stays.
    let zuid = &row(&r, "Demostad", Some("Team Zuid")).current;
    assert!(zuid.suppressed && zuid.items.is_empty() && zuid.response_rate.is_none());
    assert_eq!((zuid.sent, zuid.answered), (4, 3));
    assert!(row(&r, "Demostad", Some("Team Oost")).current.suppressed);
    assert!(!noord.suppressed);

    // Demostad total: 20 sent, 17 answered (85%). zelf_verder eens 12, oneens 4, n.v.t. 1:
    // 70.59 / 23.53 / 5.88 → floors 70/23/5 (98); remainders 10, 9, 15 (of 17) → n.v.t., eens.
    let demostad = &row(&r, "Demostad", None).current;
    assert_eq!((demostad.sent, demostad.answered, demostad.response_rate), (20, 17, Some(85)));
    assert_eq!(demostad.items[0], s(71, 23, 6));
    // algemeen (34 + 6·4 + 3·2) / 17 = 64/17 = 3.76 → 3.8.
    assert_eq!(demostad.ratings[0], Some(3.8));

    // Proefdorp: exactly 5 answers is shown. zelf_verder 3/1/1 → 60/20/20.
    let proefdorp = &row(&r, "Proefdorp", Some("Team Centrum")).current;
    assert!(!proefdorp.suppressed);
    assert_eq!(proefdorp.items[0], s(60, 20, 20));
    assert_eq!(proefdorp.ratings, vec![Some(5.0); 3]);

    // All: 25 sent, 22 answered (88%). zelf_verder 15/5/2 of 22 = 68.18 / 22.73 / 9.09 →
    // floors 68/22/9 (99); remainders 4, 16, 2 → oneens.
    let all = &row(&r, "", None).current;
    assert_eq!((all.sent, all.answered, all.response_rate), (25, 22, Some(88)));
    assert_eq!(all.items[0], s(68, 23, 9));

    // A year earlier: Noord 5 of 20 (25%), all eens, algemeen 21/5 = 4.2. The other teams had
    // nothing, so there is no single hidden part to protect.
    let before = &row(&r, "Demostad", Some("Team Noord")).previous;
    assert_eq!((before.sent, before.answered, before.response_rate), (20, 5, Some(25)));
    assert_eq!(before.items, vec![s(100, 0, 0); 4]);
    assert_eq!(before.ratings, vec![Some(4.2), Some(4.0), Some(4.0)]);
    assert!(row(&r, "Proefdorp", None).previous.suppressed);
    assert_eq!(row(&r, "", None).previous.response_rate, Some(25));
}

#[test]
fn csv_and_html_show_the_same_figures_and_hide_small_groups() {
    let r = build(Period::parse("2026-h1").unwrap(), &dataset());
    let csv = to_csv(&r);
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert!(
        lines[0].starts_with("\u{feff}Gemeente;Team;Periode;Verstuurd;Ingevuld;Respons %;zelf_verder eens %")
    );
    assert_eq!(
        lines[1],
        "Demostad;Team Noord;2026-H1;10;8;80;75;13;12;63;0;37;50;25;25;100;0;0;4,3;4,9;3,0;"
    );
    assert_eq!(lines[2], "Demostad;Team Noord;2025-H1;20;5;25;100;0;0;100;0;0;100;0;0;100;0;0;4,2;4,0;4,0;");
    assert!(lines
        .iter()
        .any(|l| l.starts_with("Demostad;Team Zuid;2026-H1;4;;") && l.ends_with(";minder dan 5 antwoorden")));
    // Every line has the same number of columns.
    let cols = lines[0].matches(';').count();
    assert!(lines.iter().filter(|l| !l.is_empty()).all(|l| l.matches(';').count() == cols), "{csv}");
    assert_eq!(lines.iter().filter(|l| !l.is_empty()).count(), 1 + 7 * 2);

    let html = to_html(&r, d("2026-07-02"));
    assert!(html.contains("1e halfjaar 2026") && html.contains("1e halfjaar 2025"));
    assert!(html.contains("eens 75% · oneens 13% · n.v.t. 12%"));
    assert!(html.contains("Gemaakt op 02-07-2026"));
    assert!(html.contains("minder dan 5 antwoorden"));
}

#[test]
fn names_cannot_inject_into_csv_or_html() {
    let mut v = Vec::new();
    for _ in 0..5 {
        v.push(answered("=cmd|' /C calc'!A0", "<script>alert(1)</script>", "2026-01-05", "EEEE", "555"));
    }
    let r = build(Period::parse("2026-Q1").unwrap(), &v);
    let csv = to_csv(&r);
    assert!(csv.contains("\n'=cmd|' /C calc'!A0;"));
    let html = to_html(&r, d("2026-04-01"));
    assert!(!html.contains("<script>") && html.contains("&lt;script&gt;"));
}

#[test]
fn rounding_adds_up_to_100() {
    assert_eq!(percentages([6, 1, 1]), Some([75, 13, 12]));
    assert_eq!(percentages([1, 1, 1]), Some([34, 33, 33]));
    assert_eq!(percentages([2, 0, 0]), Some([100, 0, 0]));
    assert_eq!(percentages([0, 0, 0]), None);
    for a in 0..12u32 {
        for b in 0..12u32 {
            for c in 1..12u32 {
                let p = percentages([a, b, c]).unwrap();
                assert_eq!(p.iter().map(|x| u32::from(*x)).sum::<u32>(), 100);
            }
        }
    }
}

#[test]
fn periods_parse_and_bound() {
    let h1 = Period::parse("2026-H1").unwrap();
    assert!(h1.contains(d("2026-01-01")) && h1.contains(d("2026-06-30")));
    assert!(!h1.contains(d("2026-07-01")) && !h1.contains(d("2025-03-01")));
    let q3 = Period::parse(" 2026-q3 ").unwrap();
    assert!(q3.contains(d("2026-09-30")) && !q3.contains(d("2026-10-01")));
    assert_eq!(q3.year_earlier().code(), "2025-Q3");
    assert_eq!((q3.first_day(), q3.last_day()), (d("2026-07-01"), d("2026-09-30")));
    let h2 = Period::parse("2025-H2").unwrap();
    assert_eq!((h2.first_day(), h2.last_day()), (d("2025-07-01"), d("2025-12-31")));
    assert_eq!(q3.label(), "kwartaal 3 van 2026");
    for bad in ["2026-H3", "2026-Q0", "2026", "abc-H1", "2026-X1", "", "2026-H", "99999-H1"] {
        assert_eq!(Period::parse(bad), Err(PeriodError), "{bad}");
    }
}

/// H1 minus Q1 must not give away a group hidden in Q2: such a group is hidden in H1 as well.
#[test]
fn a_half_year_hides_what_one_of_its_quarters_hides() {
    let mut v = Vec::new();
    // Team Noord: 6 answers in Q1 (shown), 3 in Q2 (hidden): 9 in H1, shown on its own.
    for _ in 0..6 {
        v.push(answered("Demostad", "Team Noord", "2026-02-01", "EEEE", "444"));
    }
    for _ in 0..3 {
        v.push(answered("Demostad", "Team Noord", "2026-05-01", "OOOO", "111"));
    }
    // Team Oost: 7 in Q1 and 8 in Q2: shown everywhere.
    for _ in 0..7 {
        v.push(answered("Demostad", "Team Oost", "2026-02-01", "EEEE", "555"));
    }
    for _ in 0..8 {
        v.push(answered("Demostad", "Team Oost", "2026-05-01", "EEEE", "555"));
    }
    let h1 = Period::parse("2026-H1").unwrap();
    let [q1, q2] = h1.quarters().unwrap();
    assert_eq!((q1.code(), q2.code()), ("2026-Q1".into(), "2026-Q2".into()));
    let (r1, r2) = (build(q1, &v), build(q2, &v));
    assert!(!row(&r1, "Demostad", Some("Team Noord")).current.suppressed);
    assert!(row(&r2, "Demostad", Some("Team Noord")).current.suppressed);
    let mut half = build(h1, &v);
    assert!(!row(&half, "Demostad", Some("Team Noord")).current.suppressed, "on its own, 9 answers show");
    align_with_quarters(&mut half, [&r1, &r2]);
    assert!(row(&half, "Demostad", Some("Team Noord")).current.suppressed, "H1 − Q1 would give Q2 away");
    // The neighbour is hidden too, or the municipality total would give Noord away.
    assert!(row(&half, "Demostad", Some("Team Oost")).current.suppressed);
    // Nothing changes where both quarters agree.
    let mut q = build(q1, &v);
    let before = q.clone();
    align_with_quarters(&mut q, [&r1, &r1]);
    assert_eq!(q, before);
}
