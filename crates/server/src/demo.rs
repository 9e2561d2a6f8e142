//! The demo family. Everyone in it is invented, and their family name ("Voorbeeld", Dutch for
//! "example") says so. Dates are relative to today so the trajectory always looks current.

use crate::db::sql::{params, QueryExt, Tx};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use cjg_core::article::{ArticleDraft, Language, ShowAt, TipDraft, Topic};
use cjg_core::audit::{AuditAction, AuditObject, Purpose};
use cjg_core::entry::{EntryDraft, Visibility};
use cjg_core::questionnaire::{
    self, Agree, Answer, Answers, Audience, Phase, TrajectoryUpdate, CLOSING_ITEMS, CLOSING_RATINGS,
};
use cjg_core::staff::StaffRole;
use cjg_core::{EntryKind, PersonRole};
use uuid::Uuid;

use crate::auth;
use crate::db::people::NewPerson;
use crate::db::{self, Db, StaffActor};
use crate::error::AppResult;
use crate::service::issue_activation_code;

pub const COACH_USERNAME: &str = "coach";
/// The coach of the second demo family; works on a different caseload.
pub const OTHER_COACH_USERNAME: &str = "coach2";
/// Only for the demo database; printed at start so a newcomer can sign in.
pub const COACH_PASSWORD: &str = "demo-coach-2026";
/// A quality officer: may read the indicator report, has no caseload.
pub const QUALITY_USERNAME: &str = "kwaliteit";
/// A behavioural scientist: approves the demo articles (someone else wrote them).
pub const EDITOR_USERNAME: &str = "gedrag";
/// Closed demo trajectories with their closing questionnaires, so the report has figures.
pub const ARCHIVE_DOSSIERS: usize = 48;
/// Invented families whose trajectory runs now, three in four with the app: the usage report's
/// families in care. Not on anyone's caseload.
pub const RUNNING_DOSSIERS: usize = 24;

/// The demo's staff accounts (all with [`COACH_PASSWORD`]) and their roles.
pub const ACCOUNTS: [(&str, StaffRole); 4] = [
    (COACH_USERNAME, StaffRole::Coach),
    (OTHER_COACH_USERNAME, StaffRole::Coach),
    (QUALITY_USERNAME, StaffRole::Kwaliteitsmedewerker),
    (EDITOR_USERNAME, StaffRole::Gedragswetenschapper),
];

pub struct DemoCode {
    pub person_id: Uuid,
    pub name: String,
    pub role: &'static str,
    pub code: String,
}

fn years_ago(today: NaiveDate, years: i32, days: i64) -> NaiveDate {
    let base = today.with_year(today.year() - years).unwrap_or(today);
    base - Duration::days(days)
}

/// (days ago, kind, about: None = family / Some(0) = Noor / Some(1) = Daan, title, body),
/// all with the default visibility (whole family, or about that child).
const ENTRIES: &[(i64, EntryKind, Option<usize>, &str, &str)] = &[
    (118, EntryKind::Gespreksverslag, None, "Kennismaking met het gezin",
     "We hebben kennisgemaakt bij het gezin thuis. Sanne en Karim vertelden over de drukte in huis sinds Karim in ploegendienst werkt.\n\nWat goed gaat: het gezin eet elke avond samen. Wat lastig is: de ochtenden en het naar bed gaan.\n\nWe spraken af dat ik met alle kinderen apart praat."),
    (111, EntryKind::Gespreksverslag, Some(0), "Gesprek met Noor",
     "Noor (14) vertelde over school. Ze zit in de derde klas en vindt het **huiswerk** veel. Ze slaapt laat omdat ze 's avonds nog op haar telefoon zit.\n\nNoor wil zelf graag afspraken maken over schermtijd, maar wel samen met haar ouders."),
    (109, EntryKind::Gespreksverslag, Some(1), "Gesprek met Daan",
     "Daan (9) tekende zijn gezin. Hij vindt het fijn als papa thuis is. 's Ochtends vindt hij het stom dat iedereen moppert.\n\nDaan vertelde dat hij goed kan voetballen en dat hij dat vaker wil doen."),
    (102, EntryKind::Afspraak, None, "Afspraak: tweede gesprek thuis",
     "We zien elkaar op dinsdag om 19.00 uur bij het gezin thuis. Dan kijken we samen naar wat er nu goed gaat en wat er over zes maanden anders moet zijn."),
    (95, EntryKind::Plan, None, "Ons gezinsplan",
     "## Wat willen we veranderen?\n\nRustiger ochtenden en vaste bedtijden.\n\n## Hoe pakken we het aan?\n\n- Vaste bedtijd voor Daan: 20.00 uur\n- Noor legt haar telefoon om 22.00 uur in de keuken\n- Op zaterdag maken we samen de weekplanning\n\n## Wie helpt?\n\nOma Ineke haalt Daan op woensdag van school. De coach komt elke twee weken langs."),
    (74, EntryKind::Gespreksverslag, None, "Hoe gaat het met het plan?",
     "De bedtijd van Daan lukt bijna elke dag. De telefoonafspraak met Noor lukt nog niet goed: ze vindt 22.00 uur te vroeg in het weekend.\n\nWe spraken af dat Noor in het weekend tot 23.00 uur mag. Sanne en Karim vinden dat goed."),
    (60, EntryKind::Afspraak, Some(0), "Afspraak over schermtijd",
     "Doordeweeks legt Noor haar telefoon om 22.00 uur in de keuken. In het weekend om 23.00 uur. Na vier weken kijken we samen of dit werkt."),
    (45, EntryKind::Gespreksverslag, Some(1), "Daan en voetbal",
     "Daan is lid geworden van de voetbalclub in de wijk. Hij traint op woensdag en speelt op zaterdag. Hij is trots en slaapt beter.\n\n*Tip:* blijf hem complimenten geven als hij op tijd in bed ligt."),
    (21, EntryKind::Afspraak, None, "Tussenevaluatie na drie maanden",
     "Over twee weken houden we de tussenevaluatie. We kijken samen naar het gezinsplan: wat is gelukt, wat nog niet, en gaan we door of bouwen we af?\n\nJullie krijgen vooraf een korte vragenlijst in de app."),
    (7, EntryKind::Gespreksverslag, None, "Tussenevaluatie",
     "Het gaat beter in huis. De ochtenden zijn rustiger en Daan slaapt op tijd. Noor houdt zich meestal aan de afspraak over haar telefoon.\n\nWe gaan nog drie maanden door, met minder gesprekken: **één keer per maand**."),
];

/// Entries that show the access rules: about the 17-year-old (parents only with his consent),
/// for one youth alone, for the parents alone, and a work note that never leaves the server.
/// (days ago, kind, visibility, about: 0 = Noor / 2 = Milan, title, body)
type PolicyEntry = (i64, EntryKind, Visibility, Option<usize>, &'static str, &'static str);
const POLICY_ENTRIES: &[PolicyEntry] = &[
    (110, EntryKind::Gespreksverslag, Visibility::Child, Some(2), "Gesprek met Milan",
     "Milan (17) doet een opleiding tot kok. Hij wil graag meer zelf beslissen over zijn tijd.\n\nWe spraken af dat Milan zelf bepaalt wat zijn ouders van dit gesprek horen."),
    (40, EntryKind::Afspraak, Visibility::Child, Some(2), "Afspraak met Milan over zijn stage",
     "Milan zoekt zelf een stageplek. Over drie weken bellen we om te horen hoe het gaat."),
    (30, EntryKind::Gespreksverslag, Visibility::YouthOnly, Some(0), "Gesprek alleen met Noor",
     "Noor wilde een keer alleen praten. Ze vertelde dat ze soms ruzie heeft met een vriendin. Dit verslag is alleen voor Noor."),
    (25, EntryKind::Gespreksverslag, Visibility::ParentsOnly, None, "Gesprek met Sanne en Karim",
     "We spraken met z'n drieën over opvoeden als je allebei moe bent. Sanne en Karim willen elkaar vaker aflossen in de ochtend."),
    (24, EntryKind::Gespreksverslag, Visibility::StaffOnly, None, "Werkaantekening: overleg voorbereiden",
     "Eigen aantekening van de coach voor het teamoverleg. Deze tekst komt nooit in de app van het gezin."),
];

struct Seeder<'a, 'c> {
    tx: &'a Tx<'c>,
    today: NaiveDate,
    now: DateTime<Utc>,
}

impl Seeder<'_, '_> {
    fn person(
        &self,
        dossier: Uuid,
        role: PersonRole,
        name: &str,
        age: (i32, i64),
        gezag: bool,
    ) -> AppResult<Uuid> {
        let p = NewPerson {
            role,
            display_name: name,
            birth_date: years_ago(self.today, age.0, age.1),
            has_gezag: gezag,
        };
        Ok(db::people::insert_person(self.tx, dossier, &p)?)
    }

    fn coach(&self, username: &str, name: &str, hash: &str, dossier: Uuid) -> AppResult<StaffActor> {
        let id = db::staff::insert_staff(self.tx, username, name, StaffRole::Coach, hash)?;
        db::staff::assign_staff(self.tx, id, dossier)?;
        Ok(StaffActor { id, display_name: name.into(), role: StaffRole::Coach })
    }

    #[allow(clippy::too_many_arguments)]
    fn entry(
        &self,
        dossier: Uuid,
        coach: &StaffActor,
        days_ago: i64,
        kind: EntryKind,
        visibility: Option<Visibility>,
        child_id: Option<Uuid>,
        title: &str,
        body: &str,
    ) -> AppResult<()> {
        let draft = EntryDraft {
            kind,
            child_id,
            visibility,
            title: title.into(),
            body: body.into(),
            occurred_on: self.today - Duration::days(days_ago),
        }
        .validate()?;
        db::entries::create_entry(self.tx, dossier, coach, &draft, self.now)?;
        Ok(())
    }
}

/// The demo prints activation codes and well-known staff passwords: on a database with real
/// families that would hand a stranger a way into a real dossier. So it runs only where every
/// family is invented.
fn refuse_real_families(c: &dyn crate::db::sql::Query) -> AppResult<()> {
    let real = db::people::real_dossier_count(c)?;
    if real > 0 {
        return Err(crate::error::AppError::new(
            cjg_core::ErrorCode::Conflict,
            format!("this database holds {real} families the demo did not create: --demo runs only on a demo database (start it with a new, empty --data-dir)"),
        ));
    }
    Ok(())
}

/// Seeds the demo families if the database has no dossier yet. Returns whether it did.
pub async fn seed_if_empty(db: &Db, now: DateTime<Utc>) -> AppResult<bool> {
    let password_hash = tokio::task::spawn_blocking(|| auth::hash_password(COACH_PASSWORD))
        .await
        .map_err(crate::error::AppError::internal)??;
    db.write(move |tx| {
        refuse_real_families(tx)?;
        if db::people::dossier_count(tx)? > 0 {
            // A demo database from before the second factor: its invented accounts stay usable.
            for (username, _) in ACCOUNTS {
                db::staff::second_factor_off(tx, username)?;
            }
            return Ok(false);
        }
        let s = Seeder { tx, today: cjg_core::time::dutch_date(now), now };
        let dossier = Uuid::new_v4();
        db::people::insert_dossier(tx, dossier, "Voorbeeld", true, now)?;
        s.person(dossier, PersonRole::Parent, "Sanne Voorbeeld", (41, 30), true)?;
        s.person(dossier, PersonRole::Parent, "Karim Voorbeeld", (43, 200), true)?;
        s.person(dossier, PersonRole::Carer, "Ineke Voorbeeld", (68, 10), false)?;
        let milan = s.person(dossier, PersonRole::Child, "Milan Voorbeeld", (17, 90), false)?;
        let noor = s.person(dossier, PersonRole::Child, "Noor Voorbeeld", (14, 120), false)?;
        let daan = s.person(dossier, PersonRole::Child, "Daan Voorbeeld", (9, 60), false)?;
        let coach = s.coach(COACH_USERNAME, "Fleur Demo", &password_hash, dossier)?;
        for (days_ago, kind, about, title, body) in ENTRIES {
            s.entry(dossier, &coach, *days_ago, *kind, None, about.map(|i| [noor, daan][i]), title, body)?;
        }
        for (days_ago, kind, visibility, about, title, body) in POLICY_ENTRIES {
            let child = about.map(|i| [noor, daan, milan][i]);
            s.entry(dossier, &coach, *days_ago, *kind, Some(*visibility), child, title, body)?;
        }
        // A second, smaller family with its own coach: nobody of one family or caseload may
        // ever reach the other.
        let other = Uuid::new_v4();
        db::people::insert_dossier(tx, other, "Proef", true, now + Duration::seconds(1))?;
        s.person(other, PersonRole::Parent, "Eva Proef", (36, 5), true)?;
        let sem = s.person(other, PersonRole::Child, "Sem Proef", (13, 40), false)?;
        let coach2 = s.coach(OTHER_COACH_USERNAME, "Jesse Demo", &password_hash, other)?;
        s.entry(
            other,
            &coach2,
            20,
            EntryKind::Gespreksverslag,
            None,
            None,
            "Kennismaking met Eva en Sem",
            "Eva en Sem vertelden over de verhuizing naar een nieuwe stad. Sem mist zijn oude school.",
        )?;
        s.entry(
            other,
            &coach2,
            10,
            EntryKind::Afspraak,
            None,
            Some(sem),
            "Afspraak met Sem",
            "Sem gaat twee keer per week naar de sportclub bij zijn nieuwe school.",
        )?;
        s.trajectory(dossier, 118, "Demostad", "Team Noord")?;
        s.answer_start_questionnaires(dossier)?;
        s.trajectory(other, 5, "Proefdorp", "Team Centrum")?;
        let kim = db::staff::insert_staff(
            tx,
            QUALITY_USERNAME,
            "Kim Demo",
            StaffRole::Kwaliteitsmedewerker,
            &password_hash,
        )?;
        let lotte = db::staff::insert_staff(
            tx,
            EDITOR_USERNAME,
            "Lotte Demo",
            StaffRole::Gedragswetenschapper,
            &password_hash,
        )?;
        // Invented accounts with a printed password: a second factor would protect nothing.
        for (username, _) in ACCOUNTS {
            db::staff::second_factor_off(tx, username)?;
        }
        s.archive()?;
        let author =
            StaffActor { id: kim, display_name: "Kim Demo".into(), role: StaffRole::Kwaliteitsmedewerker };
        let editor = StaffActor {
            id: lotte,
            display_name: "Lotte Demo".into(),
            role: StaffRole::Gedragswetenschapper,
        };
        let mut articles = Vec::new();
        for draft in demo_articles() {
            let title = draft.title.clone();
            let draft = draft.validate()?;
            let id = db::articles::create_article(tx, &author, &draft, now)?;
            db::articles::approve(tx, id, 1, &db::articles::text_hash(&draft), &editor, now)?;
            articles.push((title, id));
        }
        let article = |title: &str| articles.iter().find(|(t, _)| t == title).map(|(_, id)| *id);
        if let Some(puber) = article("Ruzie met je puber") {
            let sanne = db::people::person_id_by_name(tx, dossier, "Sanne Voorbeeld")?;
            let tip = TipDraft {
                person_id: sanne,
                article_id: puber,
                note: "Lees dit voor ons gesprek van dinsdag.".into(),
                show_at: ShowAt::Now,
            };
            db::articles::create_tip(tx, dossier, &coach, &tip, now)?;
        }
        Ok(true)
    })
    .await
}

impl Seeder<'_, '_> {
    fn trajectory(
        &self,
        dossier: Uuid,
        started_days_ago: i64,
        municipality: &str,
        team: &str,
    ) -> AppResult<()> {
        let t = TrajectoryUpdate {
            started_on: self.today - Duration::days(started_days_ago),
            closed_on: None,
            municipality: municipality.into(),
            team: team.into(),
        };
        db::questionnaires::set_trajectory(self.tx, dossier, &t)?;
        Ok(db::questionnaires::refresh_tasks(self.tx, dossier, self.now)?)
    }

    /// The family answered the start questionnaire on paper at the first visit.
    fn answer_start_questionnaires(&self, dossier: Uuid) -> AppResult<()> {
        let answers =
            r#"{"eerder_hulp":{"type":"choice","value":"nee"},"thuis_nu":{"type":"rating","value":2}}"#;
        self.tx.execute(
            "UPDATE questionnaire_tasks SET status = 'submitted', answers = ?2, submitted_at = ?3
             WHERE dossier_id = ?1 AND phase = 'start'",
            params![dossier.to_string(), answers, self.now],
        )?;
        Ok(())
    }

    /// Closed trajectories over the last two years, spread over two municipalities and three
    /// teams, about six in ten with answers. Invented; the pattern only has to look plausible.
    fn archive(&self) -> AppResult<()> {
        let teams = [("Demostad", "Team Noord"), ("Demostad", "Team Zuid"), ("Proefdorp", "Team Centrum")];
        let eind = questionnaire::current(Phase::Eind, Audience::Ouder);
        let mut app_users = Vec::new();
        for i in 0..ARCHIVE_DOSSIERS {
            let dossier = Uuid::new_v4();
            let name = format!("Demo-archief {:02}", i + 1);
            db::people::insert_dossier(self.tx, dossier, &name, true, self.now)?;
            let parent = self.person(dossier, PersonRole::Parent, &format!("Ouder {name}"), (40, 0), true)?;
            let closed = self.today - Duration::days(10 + 15 * i as i64);
            let (municipality, team) = teams[i % teams.len()];
            let t = TrajectoryUpdate {
                started_on: closed - Duration::days(310),
                closed_on: Some(closed),
                municipality: municipality.into(),
                team: team.into(),
            };
            db::questionnaires::set_trajectory(self.tx, dossier, &t)?;
            let answered = (i * 7) % 10 < 6;
            let answers = answered.then(|| archive_answers(i));
            db::questionnaires::import_task(
                self.tx,
                dossier,
                parent,
                &eind,
                closed,
                answers.as_ref(),
                self.now,
            )?;
            // Three in four parents had the app; a third of them removed it themselves at the end.
            // (Every fourth without, across the three teams in turn.)
            if i % 4 != 1 {
                let enrolled = t.started_on + Duration::days(7);
                let revoked = (i % 4 == 2).then_some(closed);
                self.demo_device(parent, enrolled, revoked)?;
                app_users.push((municipality, team, enrolled, revoked.unwrap_or(closed), i));
            }
        }
        // Trajectories that run now, started over the last year: the usage report's families in care.
        for i in 0..RUNNING_DOSSIERS {
            let dossier = Uuid::new_v4();
            let name = format!("Demo-lopend {:02}", i + 1);
            db::people::insert_dossier(self.tx, dossier, &name, true, self.now)?;
            let parent = self.person(dossier, PersonRole::Parent, &format!("Ouder {name}"), (38, 0), true)?;
            let (municipality, team) = teams[i % teams.len()];
            let started_days_ago = 20 + 14 * i as i64;
            self.trajectory(dossier, started_days_ago, municipality, team)?;
            if i % 4 != 3 {
                let enrolled = self.today - Duration::days(started_days_ago - 5);
                self.demo_device(parent, enrolled, None)?;
                app_users.push((municipality, team, enrolled, self.today, i + ARCHIVE_DOSSIERS));
            }
        }
        self.archive_activity(&app_users)
    }

    fn demo_device(&self, person: Uuid, enrolled: NaiveDate, revoked: Option<NaiveDate>) -> AppResult<()> {
        self.tx.execute(
            "INSERT INTO devices (id, person_id, public_key, name, created_at, revoked_at, revoked_by)
             VALUES (?1, ?2, ?3, 'Demo-telefoon', ?4, ?5, ?6)",
            params![
                Uuid::new_v4().to_string(),
                person.to_string(),
                vec![0u8; 32],
                noon(enrolled),
                revoked.map(noon),
                revoked.map(|_| format!("person:{person}")),
            ],
        )?;
        Ok(())
    }

    /// Invented activity counters for the archive's app users over the last two years, as if
    /// counting had begun then: most of them used the app in most periods.
    fn archive_activity(&self, users: &[(&str, &str, NaiveDate, NaiveDate, usize)]) -> AppResult<()> {
        let since = years_ago(self.today, 2, 0).with_day(1).unwrap_or(self.today);
        self.tx.execute("UPDATE usage_counting SET started_on = ?1 WHERE id = 1", params![since])?;
        let mut counts: std::collections::BTreeMap<(String, &str, &str), i64> = Default::default();
        for (m, t, from, to, i) in users {
            // Each user skips some weeks, never the same ones; a person counts once per bucket.
            let mut hit = std::collections::BTreeSet::new();
            let mut day = since;
            while day <= self.today {
                if (*from..=*to).contains(&day) && !(day.iso_week().week() as usize + i).is_multiple_of(5) {
                    hit.extend(cjg_core::usage::activity_buckets(day));
                }
                day += Duration::days(1);
            }
            for bucket in hit {
                *counts.entry((bucket, m, t)).or_default() += 1;
            }
        }
        for ((bucket, m, t), n) in counts {
            self.tx.execute(
                "INSERT INTO usage_activity (bucket, municipality, team, persons) VALUES (?1, ?2, ?3, ?4)",
                params![bucket, m, t, n],
            )?;
        }
        Ok(())
    }
}

fn noon(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(11, 0, 0).unwrap_or_default().and_utc()
}

/// Families for the load test: "Gezin Last 0001" and on, each a parent with gezag and a child of
/// nine, on the demo coach's caseload, with `entries` entries (the demo's texts, in turn) and a
/// trajectory that started a month ago. Each family's access log then grows to `log_lines`
/// lines with the coach reading the dossier (the big family of the benchmarks: 20,000 entries
/// and 200,000 lines). Needs the demo seeded first; adds to what is there.
pub async fn seed_load(
    db: &Db,
    now: DateTime<Utc>,
    families: usize,
    entries: usize,
    log_lines: usize,
) -> AppResult<usize> {
    db.write(move |tx| {
        let coach = db::staff::staff_by_username(tx, COACH_USERNAME)?
            .map(|account| account.actor)
            .ok_or_else(crate::error::AppError::not_found)?;
        let start = usize::try_from(db::people::dossier_count(tx)?).unwrap_or(0);
        let s = Seeder { tx, today: cjg_core::time::dutch_date(now), now };
        for i in 0..families {
            let dossier = Uuid::new_v4();
            let name = format!("Last {:04}", start + i);
            db::people::insert_dossier(tx, dossier, &name, true, now)?;
            s.person(dossier, PersonRole::Parent, &format!("Ouder {name}"), (38, 0), true)?;
            let child = s.person(dossier, PersonRole::Child, &format!("Kind {name}"), (9, 0), false)?;
            db::staff::assign_staff(tx, coach.id, dossier)?;
            for (k, (days_ago, kind, about, title, body)) in ENTRIES.iter().cycle().take(entries).enumerate()
            {
                let title = format!("{title} ({})", k + 1);
                s.entry(dossier, &coach, *days_ago, *kind, None, about.map(|_| child), &title, body)?;
            }
            s.trajectory(dossier, 30, "Demostad", "Team Noord")?;
            let written = usize::try_from(db::audit::log_size(tx, dossier)?).unwrap_or(0);
            for _ in written..log_lines {
                db::audit::append_audit(
                    tx,
                    &db::audit::AuditRecord {
                        dossier_id: dossier,
                        actor: &coach,
                        action: AuditAction::Read,
                        object_type: AuditObject::Entries,
                        object_id: None,
                        purpose: Purpose::GesprekVoorbereiden,
                        purpose_note: None,
                        origin: "seed-load",
                        application: db::audit::APPLICATION,
                        at: now,
                    },
                )?;
            }
        }
        Ok(families)
    })
    .await
}

/// The demo articles from `demo/articles.txt` (invented, written for this demo).
pub fn demo_articles() -> Vec<ArticleDraft> {
    let text = include_str!("../demo/articles.txt");
    let mut out = Vec::new();
    for chunk in text.split("\n=== ").skip(1) {
        let (head, body) = chunk.split_once("\n\n").unwrap_or((chunk, ""));
        let mut lines = head.lines();
        let title = lines.next().unwrap_or_default().trim().to_owned();
        let (mut summary, mut topics, mut ages) = (String::new(), Vec::new(), (0, 18));
        for line in lines {
            match line.split_once(": ") {
                Some(("summary", v)) => summary = v.to_owned(),
                Some(("topics", v)) => topics = v.split(", ").filter_map(Topic::parse).collect(),
                Some(("ages", v)) => {
                    if let Some((lo, hi)) = v.split_once('-') {
                        ages = (lo.parse().unwrap_or(0), hi.parse().unwrap_or(18));
                    }
                }
                _ => {}
            }
        }
        out.push(ArticleDraft {
            title,
            summary,
            body: body.trim().to_owned(),
            topics,
            age_min: ages.0,
            age_max: ages.1,
            source: "CJG Demostad, redactie (demotekst)".into(),
            language: Language::Nl,
        });
    }
    out
}

fn archive_answers(i: usize) -> Answers {
    let agree = |n: usize| match n % 9 {
        0 => Agree::Oneens,
        4 | 7 => Agree::Nvt,
        _ => Agree::Eens,
    };
    let mut a = Answers::new();
    for (k, key) in CLOSING_ITEMS.iter().enumerate() {
        a.insert((*key).into(), Answer::Agree(agree(i + 2 * k)));
    }
    for (k, key) in CLOSING_RATINGS.iter().enumerate() {
        a.insert((*key).into(), Answer::Rating(3 + ((i + k) % 3) as u8));
    }
    a
}

/// A fresh activation code for every family member with own access (a child under 12 has
/// none); old unused codes stay valid until they expire.
pub async fn issue_family_codes(db: &Db, now: DateTime<Utc>) -> AppResult<Vec<DemoCode>> {
    db.call(move |c| {
        let tx = c.transaction()?;
        refuse_real_families(&tx)?;
        let members = db::people::invented_family_members(&tx)?;
        let mut out = Vec::new();
        for (person_id, role, name) in members {
            if !db::people::has_own_access(&tx, person_id, cjg_core::time::dutch_date(now))? {
                continue;
            }
            let (code, _) = issue_activation_code(&tx, person_id, "demo", now)?;
            out.push(DemoCode {
                person_id,
                name,
                role: match PersonRole::parse(&role) {
                    Some(PersonRole::Parent) => "ouder",
                    Some(PersonRole::Carer) => "opvoeder",
                    _ => "jongere",
                },
                code: code.display(),
            });
        }
        tx.commit()?;
        Ok(out)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_articles_all_pass_the_checks() {
        let list = demo_articles();
        assert_eq!(list.len(), 15);
        let mut titles: Vec<&str> = list.iter().map(|a| a.title.as_str()).collect();
        titles.sort_unstable();
        titles.dedup();
        assert_eq!(titles.len(), 15, "titles are unique");
        for a in list {
            let title = a.title.clone();
            let a = a.validate().unwrap_or_else(|e| panic!("{title}: {e}"));
            assert!(!a.topics.is_empty() && a.body.len() > 300 && a.summary.len() > 40, "{title}");
        }
    }
}
