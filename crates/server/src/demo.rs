//! The demo family. Everyone in it is invented, and their family name ("Voorbeeld", Dutch for
//! "example") says so. Dates are relative to today so the trajectory always looks current.

use chrono::{Datelike, Duration, NaiveDate, Utc};
use cjg_core::entry::EntryDraft;
use cjg_core::{EntryKind, PersonRole};
use uuid::Uuid;

use crate::auth;
use crate::db::{self, Db, StaffActor};
use crate::error::AppResult;
use crate::routes::staff::issue_activation_code;

pub const COACH_USERNAME: &str = "coach";
/// Only for the demo database; printed at start so a newcomer can sign in.
pub const COACH_PASSWORD: &str = "demo-coach-2026";

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

/// (days ago, kind, about: None = family / Some(0) = Noor / Some(1) = Daan, title, body)
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

/// Seeds the demo family if the database has no dossier yet. Returns whether it did.
pub async fn seed_if_empty(db: &Db) -> AppResult<bool> {
    let password_hash = tokio::task::spawn_blocking(|| auth::hash_password(COACH_PASSWORD))
        .await
        .map_err(crate::error::AppError::internal)??;
    db.call(move |c| {
        if db::dossier_count(c)? > 0 {
            return Ok(false);
        }
        let tx = c.transaction()?;
        let now = Utc::now();
        let today = now.date_naive();
        let dossier = Uuid::new_v4();
        db::insert_dossier(&tx, dossier, "Voorbeeld", now)?;
        db::insert_person(&tx, dossier, PersonRole::Parent, "Sanne Voorbeeld", years_ago(today, 41, 30))?;
        db::insert_person(&tx, dossier, PersonRole::Parent, "Karim Voorbeeld", years_ago(today, 43, 200))?;
        let noor =
            db::insert_person(&tx, dossier, PersonRole::Child, "Noor Voorbeeld", years_ago(today, 14, 120))?;
        let daan =
            db::insert_person(&tx, dossier, PersonRole::Child, "Daan Voorbeeld", years_ago(today, 9, 60))?;
        let coach_id = db::insert_staff(&tx, COACH_USERNAME, "Fleur Demo", "CJG-coach", &password_hash)?;
        db::assign_staff(&tx, coach_id, dossier)?;
        let coach = StaffActor { id: coach_id, display_name: "Fleur Demo".into(), role: "CJG-coach".into() };
        for (days_ago, kind, about, title, body) in ENTRIES {
            let draft = EntryDraft {
                kind: *kind,
                child_id: about.map(|i| [noor, daan][i]),
                title: (*title).into(),
                body: (*body).into(),
                occurred_on: today - Duration::days(*days_ago),
            }
            .validate()?;
            db::create_entry(&tx, dossier, &coach, &draft, now)?;
        }
        tx.commit()?;
        Ok(true)
    })
    .await
}

/// A fresh activation code for every family member (old unused ones stay valid until they expire).
pub async fn issue_family_codes(db: &Db) -> AppResult<Vec<DemoCode>> {
    db.call(|c| {
        let members = db::family_members(c)?;
        let tx = c.transaction()?;
        let mut out = Vec::new();
        for (person_id, role, name) in members {
            let (code, _) = issue_activation_code(&tx, person_id, "demo")?;
            out.push(DemoCode {
                person_id,
                name,
                role: if role == "parent" { "ouder" } else { "kind" },
                code: code.display(),
            });
        }
        tx.commit()?;
        Ok(out)
    })
    .await
}
