//! The usage report (issue 24) through the real server: figures equal what the database holds,
//! small groups stay hidden, only reporting roles get it, every pull is logged, an ended
//! period's report never changes, and a person's app counts once per period.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Datelike, Utc};
use cjg_core::usage::{Measure, UsagePeriod, UsageReport};
use cjg_tests::{enrolled_app, params, TestServer};

fn month_of(d: chrono::NaiveDate) -> UsagePeriod {
    UsagePeriod::Month { year: d.year(), month: u8::try_from(d.month()).unwrap() }
}

/// The newest month with a report: one that ended more than ten days ago.
fn last_settled_month(today: chrono::NaiveDate) -> UsagePeriod {
    let last = month_of(month_of(today).first_day().pred_opt().unwrap());
    if today >= last.ready_on() {
        last
    } else {
        month_of(last.first_day().pred_opt().unwrap())
    }
}

#[tokio::test]
async fn the_usage_report_counts_what_the_server_saw_for_reporting_roles_only() {
    let server = TestServer::start().unwrap();
    let today = cjg_core::time::dutch_date(Utc::now());
    let period = last_settled_month(today);
    let http = reqwest::Client::new();
    let get = |token: String, query: String| {
        http.get(format!("{}/v1/staff/reports/usage?{query}", server.url)).bearer_auth(token).send()
    };
    let coach = server.staff().await.unwrap();
    let r = get(coach.token.clone(), format!("period={}", period.code())).await.unwrap();
    assert_eq!(r.status(), 403, "a coach does not see other teams' figures");
    let kim = server.staff_as("kwaliteit").await.unwrap();
    for bad in ["period=2026-13", "period=", "period=2026-11&format=xlsx", "perio=2026-11"] {
        let r = get(kim.token.clone(), bad.into()).await.unwrap();
        assert_eq!(r.status(), 400, "{bad}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert!(body["error"]["code"].is_string(), "{body}");
    }
    // The month after the settled one has not ended, or ended less than ten days ago.
    let next = month_of(period.last_day().succ_opt().unwrap());
    let r = get(kim.token.clone(), format!("period={}", next.code())).await.unwrap();
    assert_eq!(r.status(), 400, "a month that has not settled has no report");

    let r = get(kim.token.clone(), format!("period={}", period.code())).await.unwrap();
    assert_eq!(r.status(), 200);
    let report: UsageReport = r.json().await.unwrap();
    let all = report.rows.last().unwrap();
    assert_eq!((all.municipality.as_str(), all.team.as_deref()), ("", None));
    // Families in care, worked out from the dossiers with a plain query.
    let (from, to) = (period.first_day(), period.last_day());
    let count = |sql: &str| -> i64 { server.db().query_row(sql, params![from, to], |r| r.get(0)).unwrap() };
    let in_care = count(
        "SELECT COUNT(*) FROM dossiers WHERE started_on IS NOT NULL AND started_on <= ?2
         AND (closed_on IS NULL OR closed_on >= ?1)",
    );
    assert!(in_care >= 10, "the demo archive fills last month ({in_care})");
    assert_eq!(all.current.get(Measure::FamiliesInCare).map(i64::from), Some(in_care));
    let reached = all.current.get(Measure::FamiliesReached).expect("the demo's app users are shown");
    assert!(reached >= 5 && i64::from(reached) <= in_care);
    assert!(all.current.reach_percent.is_some());
    assert!(all.current.activity_measured, "the demo counts activity from two years back");
    assert!(all.current.get(Measure::ActivePersons).is_some_and(|n| n >= 5));
    assert!(!all.current.weeks.is_empty());
    assert_eq!(report.previous_period, period.year_earlier());
    // No figure under 5 anywhere; every figure a row shows is one of the measures.
    for row in &report.rows {
        for f in [&row.current, &row.previous] {
            assert_eq!(f.counts.len(), Measure::ALL.len());
            for c in &f.counts {
                assert!(c.value.is_none_or(|v| v >= 5), "{row:?}");
            }
            for w in &f.weeks {
                assert!(w.value.is_none_or(|v| v >= 5), "{row:?}");
            }
        }
    }
    // Families move between teams afterwards; the settled month's report does not change with
    // them (else the difference would show what those families did).
    server
        .db()
        .execute("UPDATE dossiers SET team = 'Team Zuid' WHERE team = 'Team Noord'", params![])
        .unwrap();
    // The JSON holds no name and no id of anyone.
    let text =
        get(kim.token.clone(), format!("period={}", period.code())).await.unwrap().text().await.unwrap();
    assert_eq!(
        serde_json::from_str::<UsageReport>(&text).unwrap(),
        report,
        "a settled month stays as it was"
    );
    // Its counts are stored: the month and the same month a year earlier.
    let stored: i64 = server
        .db()
        .query_row("SELECT COUNT(*) FROM frozen_reports WHERE period LIKE 'usage-counts:%'", params![], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(stored, 2);
    let dossier = coach.dossier_id(&server.db()).await;
    assert!(
        !text.contains(&dossier.to_string()) && !text.contains("Demo-archief") && !text.contains("Sanne")
    );

    let csv = get(kim.token.clone(), format!("period={}&format=csv", period.code())).await.unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = csv.text().await.unwrap();
    assert!(csv.starts_with("\u{feff}Gemeente;Team;Periode;Gezinnen in zorg"));
    let out = server.cli().args(["usage", "--period", &period.code(), "--format", "csv"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), csv, "the CLI and the API agree");
    let out = server.cli().args(["usage", "--period", "2026-14"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("2026-11, 2026-Q3 or 2026-H1"));

    // Every pull is in the log of report pulls: three JSON and one CSV by Kim, one by the CLI.
    let pulls: Vec<(String, String, String)> = server
        .db()
        .query_map(
            "SELECT actor, format, period FROM report_pulls WHERE report = 'usage' ORDER BY id",
            params![],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    let kims: Vec<_> = pulls.iter().filter(|p| p.0.starts_with("staff:")).collect();
    assert_eq!(kims.len(), 3, "{pulls:?}");
    assert!(kims.iter().all(|p| p.2 == period.code()));
    assert_eq!(pulls.iter().filter(|p| p.0 == "command line").count(), 1);
}

#[tokio::test]
async fn a_persons_app_counts_once_per_week_month_quarter_and_half_year() {
    let data = tempfile::tempdir().unwrap();
    let mut server = TestServer::start_in(data.path(), "127.0.0.1:0", &[]).unwrap();
    let team: (String, String) = server
        .db()
        .query_row(
            "SELECT d.municipality, d.team FROM dossiers d JOIN people p ON p.dossier_id = d.id
             WHERE p.display_name LIKE 'Sanne%'",
            params![],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let counter = |server: &TestServer, bucket: &str| -> i64 {
        server
            .db()
            .query_row(
                "SELECT CAST(COALESCE(SUM(persons), 0) AS BIGINT) FROM usage_activity
                 WHERE bucket = ?1 AND municipality = ?2 AND team = ?3",
                params![bucket, team.0.clone(), team.1.clone()],
                |r| r.get(0),
            )
            .unwrap()
    };
    let today = cjg_core::time::dutch_date(Utc::now());
    let buckets = cjg_core::usage::activity_buckets(today);
    let before: Vec<i64> = buckets.iter().map(|b| counter(&server, b)).collect();
    let (_dir, app) = enrolled_app(&server, "Sanne").await;
    // A first contact in every bucket: one more person in each.
    let after: Vec<i64> = buckets.iter().map(|b| counter(&server, b)).collect();
    assert_eq!(after, before.iter().map(|n| n + 1).collect::<Vec<_>>());
    // More syncs the same day add nobody (the contact is written at most once a minute, and a
    // later one in the same buckets counts nothing).
    server
        .db()
        .execute(
            "UPDATE devices SET last_seen_at = ?1 WHERE name != 'Demo-telefoon'",
            params![Utc::now() - chrono::Duration::minutes(5)],
        )
        .unwrap();
    app.sync(|_| {}).await.unwrap();
    app.sync(|_| {}).await.unwrap();
    assert_eq!(buckets.iter().map(|b| counter(&server, b)).collect::<Vec<_>>(), after);

    // Forty days on, the same person counts in the new week and month.
    let listen = server.url.trim_start_matches("http://").to_owned();
    server.stop();
    let server = TestServer::start_in(data.path(), &listen, &["--clock-offset-days", "40"]).unwrap();
    app.sync(|_| {}).await.unwrap();
    let later = cjg_core::usage::activity_buckets(today + chrono::Duration::days(40));
    assert_eq!(counter(&server, &later[0]), 1, "a new week");
    assert_eq!(counter(&server, &later[1]), 1, "a new month");
    for i in [2, 3] {
        let expected = if later[i] == buckets[i] { after[i] } else { 1 };
        assert_eq!(counter(&server, &later[i]), expected, "{}", later[i]);
    }
}

/// Sharing how the app is used, through the real apps and server: off by default; four family
/// members turn it on and use parts of the app; after the month has ended each app sends one
/// randomized report, the server adds them to counters per team (nothing per person), a second
/// report of a month is refused, a running month or a report without every question is refused,
/// and the usage report shows estimates with their margin once five people reported.
#[tokio::test]
async fn shared_use_is_counted_once_per_person_and_month_and_estimated() {
    use cjg_core::usage::{UsageQuestion, UsageShare};
    let data = tempfile::tempdir().unwrap();
    let mut server = TestServer::start_in(data.path(), "127.0.0.1:0", &[]).unwrap();
    let now = Utc::now();
    let today = cjg_core::time::dutch_date(now);
    let month = format!("{}-{:02}", today.year(), today.month());
    let mut apps = Vec::new();
    for (i, name) in ["Sanne", "Karim", "Ineke", "Noor"].into_iter().enumerate() {
        let (dir, app) = enrolled_app(&server, name).await;
        assert!(!app.usage_sharing().await.unwrap(), "off unless the person turns it on");
        // Nothing is kept while it is off.
        app.note_use(UsageQuestion::Berichten).await.unwrap();
        app.set_usage_sharing(true).await.unwrap();
        app.note_use(UsageQuestion::Dossier).await.unwrap();
        if i < 3 {
            app.note_use(UsageQuestion::InzageExport).await.unwrap();
        }
        assert!(!app.share_usage(now).await.unwrap(), "nothing goes during the month");
        apps.push((dir, app));
    }
    // Milan's report goes by hand, to try what the server refuses.
    let milan_dir = tempfile::tempdir().unwrap();
    let milan = cjg_tests::enrolled_store(&server, "Milan", milan_dir.path()).await;
    let all = |v: bool| UsageQuestion::ALL.iter().map(|q| (*q, v)).collect();
    let share = |m: &str| UsageShare { month: m.into(), answers: all(true) };
    let session = cjg_client::Session::of(&milan).unwrap();
    let token = session.token().await.unwrap();
    let e = session.client.share_usage(&token, &share(&month)).await.unwrap_err();
    assert_eq!(e.code(), "invalid_input", "a month that has not ended");

    // Two days after the month ended, the apps report it.
    let period = month_of(today);
    let offset = (period.last_day() - today).num_days() + 2;
    let listen = server.url.trim_start_matches("http://").to_owned();
    server.stop();
    let mut server =
        TestServer::start_in(data.path(), &listen, &["--clock-offset-days", &offset.to_string()]).unwrap();
    let later = now + chrono::Duration::days(offset);
    for (_, app) in &apps {
        assert!(app.share_usage(later).await.unwrap());
        assert!(!app.share_usage(later).await.unwrap(), "a month goes once");
    }
    let session = cjg_client::Session::of(&milan).unwrap();
    let token = session.token().await.unwrap();
    let mut partial = share(&month);
    partial.answers.remove(&UsageQuestion::Taken);
    let e = session.client.share_usage(&token, &partial).await.unwrap_err();
    assert_eq!(e.code(), "invalid_input", "every question answered");
    session.client.share_usage(&token, &share(&month)).await.unwrap();
    let e = session.client.share_usage(&token, &share(&month)).await.unwrap_err();
    assert_eq!(e.code(), "conflict", "one report per person and month");

    // Counters only: five reports per question for the family's team, no person in them.
    let rows: Vec<(String, i64, i64)> = server
        .db()
        .query_map(
            "SELECT question, reports, yes FROM usage_shared WHERE month = ?1 ORDER BY question",
            params![month.clone()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(rows.len(), UsageQuestion::ALL.len(), "{rows:?}");
    assert!(rows.iter().all(|(_, reports, yes)| *reports == 5 && (0..=5).contains(yes)), "{rows:?}");
    // Once the month has settled, a report of it is refused and the usage report has it.
    let settled = (period.ready_on() - today).num_days();
    server.stop();
    let server =
        TestServer::start_in(data.path(), &listen, &["--clock-offset-days", &settled.to_string()]).unwrap();
    // A new session: the old one's connection went with the server.
    let session = cjg_client::Session::of(&milan).unwrap();
    let e = session.client.share_usage(&session.token().await.unwrap(), &share(&month)).await.unwrap_err();
    assert_eq!(e.code(), "invalid_input", "a settled month takes no more reports");
    let kim = server.staff_as("kwaliteit").await.unwrap();
    let report: UsageReport = reqwest::Client::new()
        .get(format!("{}/v1/staff/reports/usage?period={month}", server.url))
        .bearer_auth(&kim.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let all = report.rows.last().unwrap();
    assert_eq!(all.current.get(Measure::UsageReportsShared), Some(5));
    assert_eq!(all.current.shared.len(), UsageQuestion::ALL.len());
    for e in &all.current.shared {
        let (p, m) = (e.percent.unwrap(), e.margin.unwrap());
        assert!((0.0..=100.0).contains(&p) && m >= 0.0, "{e:?}");
    }
}
