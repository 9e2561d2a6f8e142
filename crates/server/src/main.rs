//! `cjg-server --data-dir DIR --listen ADDR:PORT [--demo]` serves;
//! `cjg-server verify-audit --data-dir DIR` checks every dossier's audit chain and exits;
//! `cjg-server report --period 2026-H1 [--format csv|html|json] [--out FILE]` prints the
//! indicator report; `cjg-server backup --to FILE` and `cjg-server restore --from FILE` copy the
//! SQLite database out while serving and back into an empty data directory;
//! `cjg-server rotate-audit-key` replaces the access log's signing key with a statement apps
//! follow; `cjg-server retention [--years N] [--apply]` lists and removes dossiers past their
//! legal term. Every setting can also come from `--config FILE` (TOML).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use cjg_server::db::audit::ChainReport;
use cjg_server::ready::{Ready, ReadyAccount, ReadyCode};
use cjg_server::{demo, open_state, serve, Settings, DEFAULT_LISTEN, DEFAULT_PURPOSE_MINUTES};
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

#[derive(Parser, Debug)]
#[command(name = "cjg-server", version, about = "Mijn CJG server: sync, enrolment and staff API")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// A configuration file (TOML) with any of these settings, named as the flags without the
    /// dashes (`listen = "0.0.0.0:8470"`); flags and environment variables win over it.
    #[arg(long, env = "CJG_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// Where the SQLite database lives (default: the user's data directory).
    #[arg(long, env = "CJG_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// A PostgreSQL database instead of the embedded SQLite file, for a region with several
    /// server instances: `postgres://user:password@host:port/name`. All instances need the
    /// same audit key (`audit-signing.key` in the data directory).
    #[arg(long, env = "CJG_DATABASE_URL", global = true, hide_env_values = true)]
    database_url: Option<String>,
    /// PostgreSQL connections per server instance.
    #[arg(long, env = "CJG_DB_POOL", default_value_t = 16, global = true,
        value_parser = clap::value_parser!(u32).range(1..=256))]
    db_pool: u32,
    /// Address and port to listen on.
    #[arg(long, env = "CJG_LISTEN", default_value = DEFAULT_LISTEN)]
    listen: SocketAddr,
    /// Serve HTTPS with this certificate chain (PEM); needs --tls-key. Without it the server
    /// speaks plain HTTP: for its own machine, or behind a proxy that does TLS.
    #[arg(long, env = "CJG_TLS_CERT")]
    tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, env = "CJG_TLS_KEY")]
    tls_key: Option<PathBuf>,
    /// Seed the invented demo family (once) and print fresh activation codes.
    #[arg(long)]
    demo: bool,
    /// Enrolment and staff login attempts allowed per address per minute. Above 600 it also
    /// lifts the device challenges per address (600 a minute), for load tests from one address.
    #[arg(long, env = "CJG_ATTEMPTS_PER_MINUTE", default_value_t = 10)]
    attempts_per_minute: u32,
    /// A reverse proxy (address or CIDR block) whose X-Forwarded-For is believed; repeat it or
    /// separate with commas. Without one, the connecting address is the client.
    #[arg(long = "trusted-proxy", env = "CJG_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_net)]
    trusted_proxies: Vec<ipnet::IpNet>,
    /// Days the per-minute counts of refused requests are kept.
    #[arg(long, env = "CJG_DENIED_RETENTION_DAYS", default_value_t = cjg_server::DEFAULT_DENIED_RETENTION_DAYS,
        value_parser = clap::value_parser!(u32).range(1..=3650))]
    denied_retention_days: u32,
    /// Minutes a staff sign-in lasts without use (it ends after 8 hours in any case).
    #[arg(long, env = "CJG_STAFF_IDLE_MINUTES", default_value_t = cjg_server::DEFAULT_STAFF_IDLE_MINUTES,
        value_parser = clap::value_parser!(u32).range(1..=1440))]
    staff_idle_minutes: u32,
    /// Password hashes computed at once (19 MiB each); default: the number of processors.
    #[arg(long, env = "CJG_HASH_CONCURRENCY", value_parser = clap::value_parser!(u32).range(1..=256))]
    hash_concurrency: Option<u32>,
    /// Minutes a staff member's stated purpose holds for one dossier (1 to 1440).
    #[arg(long, env = "CJG_PURPOSE_MINUTES", default_value_t = DEFAULT_PURPOSE_MINUTES,
        value_parser = clap::value_parser!(u32).range(1..=1440))]
    purpose_minutes: u32,
    /// Once listening, write the address (and with `--demo` the demo's codes and accounts) to
    /// this file as JSON, for the program that started the server.
    #[arg(long, env = "CJG_READY_FILE")]
    ready_file: Option<PathBuf>,
    /// Staff sign in with the organisation's own account: the identity provider's settings and
    /// the map from its groups to Mijn CJG roles (TOML; see the README).
    #[arg(long, env = "CJG_OIDC_CONFIG", global = true)]
    oidc_config: Option<PathBuf>,
    /// The FHIR endpoint for the CJG's own systems (the ECD): its public address and the
    /// registered clients with their public keys and scopes (TOML; see docs/fhir.md).
    #[arg(long, env = "CJG_FHIR_CONFIG")]
    fhir_config: Option<PathBuf>,
    /// `GET /metrics` (Prometheus text format) answers a scrape that sends this token as
    /// `Authorization: Bearer …`; without it the route is not there.
    #[arg(long, env = "CJG_METRICS_TOKEN", hide_env_values = true)]
    metrics_token: Option<String>,
    /// For tests only: run the server's clock this many days ahead (a youth turns 16).
    #[arg(long, env = "CJG_CLOCK_OFFSET_DAYS", default_value_t = 0, hide = true)]
    clock_offset_days: i64,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Recompute every dossier's audit chain and report where one breaks (exit code 1 if any).
    VerifyAudit,
    /// Adds invented families for the load test (after the demo): test data, not for real use.
    #[command(hide = true)]
    SeedLoad {
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100_000))]
        families: u32,
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(0..=100_000))]
        entries: u32,
        /// Each family's access log grows to this many lines (the coach reading the dossier).
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
        log_lines: u32,
    },
    /// Adds a built-in staff account. The password is read from standard input (one line, at
    /// least 12 characters); the account sets up its second factor at its first sign-in.
    AddStaff {
        #[arg(long)]
        username: String,
        /// The name families see in Inzage.
        #[arg(long)]
        name: String,
        /// coach, gedragswetenschapper, kwaliteitsmedewerker, manager or functioneel_beheerder.
        #[arg(long)]
        role: String,
    },
    /// A staff member lost their phone and their recovery codes: clears the second factor (set
    /// up again at the next sign-in) and ends the account's tokens now.
    ResetSecondFactor {
        #[arg(long)]
        username: String,
    },
    /// Links a built-in staff account to the person's account at the organisation's identity
    /// provider (its `sub`), so a sign-in there reaches this account with its caseload. The
    /// password and second factor stop working, and the account's current sign-ins end. Never
    /// done by a matching name: whoever could choose that name at the provider would take over
    /// the account.
    LinkStaff {
        #[arg(long)]
        username: String,
        /// The provider's subject (`sub`) of the person, as its administrators show it. The
        /// provider is the one of `--oidc-config`.
        #[arg(long)]
        subject: String,
    },
    /// The indicator report of the performance plan for a half year or quarter, next to the same
    /// period a year earlier. Groups with fewer than 5 answers show no figures.
    Report {
        /// `2026-H1`, `2026-H2`, or `2026-Q1` to `2026-Q4`.
        #[arg(long)]
        period: String,
        #[arg(long, value_enum, default_value_t = ReportFormat::Csv)]
        format: ReportFormat,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// How the app is used (README, "Usage report"): per municipality and team, for a month,
    /// quarter or half year that has ended, next to the same period a year earlier. Counts
    /// only; groups under 5 show no figure.
    Usage {
        /// `2026-11`, `2026-Q4` or `2026-H2`.
        #[arg(long)]
        period: String,
        #[arg(long, value_enum, default_value_t = ReportFormat::Csv)]
        format: ReportFormat,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Copies the SQLite database to a new file while the server keeps serving (SQLite's online
    /// backup: one consistent moment). Keep the audit signing key (`audit-signing.key`) apart
    /// from it, offline: a restore needs it. On PostgreSQL use pg_dump (README, "Backups").
    Backup {
        /// The backup file to write; never overwritten.
        #[arg(long)]
        to: PathBuf,
    },
    /// Puts a backup in place as the database of an empty data directory (`--data-dir`), with
    /// its audit signing key. Start the server on that directory afterwards.
    Restore {
        /// The backup file, made by `cjg-server backup`.
        #[arg(long)]
        from: PathBuf,
        /// The audit-signing.key that belongs to the backup (not needed when the data
        /// directory already holds it).
        #[arg(long)]
        audit_key: Option<PathBuf>,
    },
    /// Replaces the key that signs the access log's checkpoints: the old key signs a statement
    /// handing over to the new one, which every app follows at its next sync. Stop or restart
    /// every server instance right after; then make a new backup and keep the new key with it.
    RotateAuditKey,
    /// Lists the closed dossiers whose retention term has passed; with --apply removes them
    /// whole (people, devices, entries and versions, feedback, messages, questionnaires and the
    /// access log), each noted in the retention log. Without --apply nothing changes.
    Retention {
        /// The term in years after the dossier closed (the Jeugdwet keeps a dossier 20 years).
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=115))]
        years: u32,
        /// Remove what the list shows. Run without it first and read the list.
        #[arg(long)]
        apply: bool,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ReportFormat {
    Csv,
    Html,
    Json,
}

const MIN_STAFF_PASSWORD: usize = 12;

async fn link_staff(settings: &Settings, username: &str, subject: &str) -> anyhow::Result<()> {
    use cjg_server::db::oidc::LinkRefused;
    // The issuer exactly as sign-ins store it: taken from the same configuration, never typed.
    let Some(config) = &settings.oidc else {
        anyhow::bail!("give --oidc-config with the identity provider's configuration");
    };
    let issuer = config.issuer.as_str().to_owned();
    let username = cjg_core::validate::single_line("username", username, 100)?;
    if subject.is_empty() || subject.len() > 255 || !subject.bytes().all(|b| b.is_ascii_graphic()) {
        anyhow::bail!("--subject must be 1 to 255 printable characters without spaces");
    }
    let state = open_state(settings)?;
    let (name, sub, now) = (username.clone(), subject.to_owned(), state.clock.now());
    let linked = state
        .db
        .write_unordered(move |tx| Ok(cjg_server::db::oidc::link_staff(tx, &name, &issuer, &sub, now)?))
        .await
        .map_err(|e| anyhow::anyhow!("link failed: {}", e.message))?;
    match linked {
        Ok(_) => {
            println!("{username} logt voortaan in met het account van de organisatie ({subject}).");
            Ok(())
        }
        Err(LinkRefused::NoSuchAccount) => anyhow::bail!("no staff account {username:?}"),
        Err(LinkRefused::AlreadyLinked) => anyhow::bail!("{username:?} is already linked to an account"),
        Err(LinkRefused::SubjectTaken) => {
            anyhow::bail!(
                "subject {subject:?} already belongs to another staff account that works on dossiers"
            )
        }
    }
}

async fn add_staff(settings: &Settings, username: &str, name: &str, role: &str) -> anyhow::Result<()> {
    let username = cjg_core::validate::single_line("username", username, 100)?;
    let name = cjg_core::validate::single_line("name", name, 100)?;
    use cjg_core::staff::StaffRole;
    let role =
        StaffRole::from_config_name(role).ok_or_else(|| anyhow::anyhow!("--role: unknown role {role:?}"))?;
    let mut password = String::new();
    std::io::stdin().read_line(&mut password).context("cannot read the password from standard input")?;
    let password = password.trim_end_matches(['\r', '\n']).to_owned();
    if password.chars().count() < MIN_STAFF_PASSWORD {
        anyhow::bail!("the password needs at least {MIN_STAFF_PASSWORD} characters");
    }
    let hash = tokio::task::spawn_blocking(move || cjg_server::auth::hash_password(&password))
        .await?
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let state = open_state(settings)?;
    let user = username.clone();
    let code = cjg_server::auth::new_one_time_code().map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let shown = code.clone();
    let expires = state.clock.now() + chrono::Duration::days(cjg_core::second_factor::SETUP_CODE_DAYS);
    state
        .db
        .write(move |tx| {
            let id = cjg_server::db::staff::insert_staff(tx, &user, &name, role, &hash)?;
            cjg_server::db::staff::set_setup_code(
                tx,
                id,
                &cjg_server::auth::setup_code_hash(id, &code),
                expires,
            )?;
            Ok(())
        })
        .await
        .map_err(|e| anyhow::anyhow!("cannot add {username:?}: {}", e.message))?;
    println!("Account {username} aangemaakt.");
    print_setup_code(&shown, expires);
    Ok(())
}

/// The one-time setup code goes to standard output for the administrator to hand over in
/// person or by phone; it is never logged.
fn print_setup_code(code: &str, expires: chrono::DateTime<chrono::Utc>) {
    println!("Instelcode: {code}");
    println!(
        "Geef deze code persoonlijk of telefonisch door. Met de code en het wachtwoord stelt de medewerker \
         bij de eerste keer inloggen de tweede factor in. Geldig tot {} (UTC), één keer te gebruiken.",
        expires.format("%Y-%m-%d %H:%M")
    );
}

async fn usage(
    settings: &Settings,
    period: &str,
    format: ReportFormat,
    out: Option<PathBuf>,
) -> anyhow::Result<()> {
    let period = cjg_core::usage::UsagePeriod::parse(period).map_err(|e| anyhow::anyhow!("--period: {e}"))?;
    pull_report(settings, "usage", period.code(), format, out, move |tx, pull| {
        cjg_server::service::usage_report(tx, period, pull)
    })
    .await
}

async fn report(
    settings: &Settings,
    period: &str,
    format: ReportFormat,
    out: Option<PathBuf>,
) -> anyhow::Result<()> {
    let period = cjg_core::indicators::Period::parse(period).map_err(|e| anyhow::anyhow!("--period: {e}"))?;
    pull_report(settings, "indicators", period.code(), format, out, move |tx, pull| {
        cjg_server::service::indicator_report(tx, period, pull)
    })
    .await
}

/// A report pulled on the command line: logged like a staff member's pull, in the same
/// transaction that makes it, and written in the format asked for.
async fn pull_report<R: cjg_server::service::ReportText>(
    settings: &Settings,
    report: &'static str,
    period: String,
    format: ReportFormat,
    out: Option<PathBuf>,
    make: impl FnOnce(
            &cjg_server::db::sql::Tx<'_>,
            &cjg_server::db::reports::Pull<'_>,
        ) -> cjg_server::error::AppResult<R>
        + Send
        + 'static,
) -> anyhow::Result<()> {
    let state = open_state(settings)?;
    let now = state.clock.now();
    let fmt = format!("{format:?}").to_lowercase();
    let made = state
        .db
        .write(move |tx| {
            let pull = cjg_server::db::reports::Pull {
                at: now,
                actor: "command line",
                role: "functioneel beheer",
                report,
                period,
                format: &fmt,
            };
            make(tx, &pull)
        })
        .await
        .map_err(|e| anyhow::anyhow!("no {report} report: {}", e.message))?;
    let text = match format {
        ReportFormat::Csv => made.csv(),
        ReportFormat::Html => made.html(state.clock.today()),
        ReportFormat::Json => serde_json::to_string_pretty(&made)?,
    };
    match out {
        Some(path) => std::fs::write(&path, text)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?,
        None => print!("{text}"),
    }
    Ok(())
}

fn default_data_dir() -> PathBuf {
    dirs::data_dir().unwrap_or_else(|| PathBuf::from(".")).join("cjg-server")
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutting down");
}

/// Prints one line per dossier; true when every chain holds.
/// `rotate-audit-key`: the next key beside the current one, the handover statement signed by
/// the current key stored in the database, then the next key in the current one's place. Each
/// step can be interrupted: before the statement nothing changed; after it, the server refuses
/// to start until the `.new` file is moved into place (see `serve`).
async fn rotate_audit_key(settings: &Settings) -> anyhow::Result<()> {
    // Opening the state would make a key when there is none (a mistyped --data-dir): a
    // statement from a key no app pinned would make every app refuse the log.
    let current = settings.data_dir.join(cjg_server::audit::KEY_FILE);
    anyhow::ensure!(
        current.exists(),
        "there is no {} to rotate: check --data-dir (every instance's key lives there)",
        current.display()
    );
    let state = open_state(settings)?;
    anyhow::ensure!(
        key_is_current(&state).await?,
        "the current key is not the one the last rotation handed over to: finish that one first"
    );
    let next = cjg_server::audit::make_next_key(&settings.data_dir)?;
    let statement = cjg_crypto::chain::sign_rotation(&state.audit_key, &next.public_key(), state.clock.now());
    let kept = statement.clone();
    let stored = state
        .db
        .write(move |tx| Ok(cjg_server::db::audit::add_key_rotation(tx, &kept)?))
        .await
        .map_err(|e| anyhow::anyhow!("storing the rotation statement failed: {}", e.message))?;
    if !stored {
        let _ = std::fs::remove_file(settings.data_dir.join(cjg_server::audit::NEW_KEY_FILE));
        anyhow::bail!(
            "another rotation was stored meanwhile: nothing changed here; check the key and run again"
        );
    }
    cjg_server::audit::promote_next_key(&settings.data_dir)?;
    println!(
        "ok: the access log is now signed with key {} (was {}). Restart every server instance now; \
         apps move to the new key at their next sync. An instance with a data directory of its \
         own needs this key file first. Make a new backup and keep {} with it.",
        statement.rotation.new_key,
        statement.rotation.old_key,
        settings.data_dir.join(cjg_server::audit::KEY_FILE).display()
    );
    Ok(())
}

/// `retention`: the list of dossiers past their term, and with `apply` their removal, each in a
/// transaction of its own (one that fails leaves the others as they were).
async fn retention(settings: &Settings, years: u32, apply: bool) -> anyhow::Result<()> {
    let state = open_state(settings)?;
    let now = state.clock.now();
    let today = state.clock.today();
    let cutoff = today
        .checked_sub_months(chrono::Months::new(years * 12))
        .ok_or_else(|| anyhow::anyhow!("--years {years} reaches before the calendar"))?;
    let expired = state
        .db
        .call(move |c| Ok(cjg_server::db::retention::expired(c, cutoff)?))
        .await
        .map_err(|e| anyhow::anyhow!("reading the dossiers failed: {}", e.message))?;
    let verb = if apply { "removing" } else { "would remove" };
    println!("{verb} {} dossiers closed before {cutoff} ({years} years before {today}):", expired.len());
    for d in &expired {
        println!(
            "  dossier {} closed {}: {} people, {} entries, {} access-log lines",
            d.dossier_id, d.closed_on, d.people, d.entries, d.log_lines
        );
    }
    if !apply {
        println!("Nothing was changed. Run again with --apply to remove these dossiers.");
        return Ok(());
    }
    for d in expired {
        let id = d.dossier_id;
        let removed = state
            .db
            .write_in(id, move |tx| {
                Ok(cjg_server::db::retention::remove(tx, id, cutoff, "command line", now)?)
            })
            .await
            .map_err(|e| {
                let cause = e.cause.as_deref().unwrap_or(&e.message).to_owned();
                anyhow::anyhow!("removing dossier {id} failed (nothing of it changed): {cause}")
            })?;
        match removed {
            Some(_) => println!("  removed dossier {id}"),
            None => println!("  kept dossier {id}: it is no longer closed before {cutoff}"),
        }
    }
    Ok(())
}

/// The command line, with the configuration file's settings (`--config` or `CJG_CONFIG`) put
/// in front as flags for whatever the command line and the environment leave open.
fn parse_with_config_file() -> anyhow::Result<Cli> {
    use clap::CommandFactory;
    let mut argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let typed = |long: &str| {
        let flag = format!("--{long}");
        argv.iter().filter_map(|a| a.to_str()).any(|a| a == flag || a.starts_with(&format!("{flag}=")))
    };
    let path = argv
        .iter()
        .position(|a| a == "--config")
        .and_then(|i| argv.get(i + 1).cloned())
        .or_else(|| argv.iter().find_map(|a| a.to_str()?.strip_prefix("--config=").map(Into::into)))
        .or_else(|| std::env::var_os("CJG_CONFIG"));
    if let Some(path) = path {
        let shown = PathBuf::from(&path).display().to_string();
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the configuration file {shown}"))?;
        let command = Cli::command();
        let known: Vec<cjg_server::config_file::Known<'_>> = command
            .get_arguments()
            .filter(|a| !a.is_hide_set() && a.get_id() != "config")
            .filter_map(|a| {
                Some(cjg_server::config_file::Known {
                    long: a.get_long()?,
                    env: a.get_env().and_then(|e| e.to_str()),
                    switch: !a.get_action().takes_values(),
                })
            })
            .filter(|k| k.long != "help" && k.long != "version")
            .collect();
        let extra = cjg_server::config_file::file_args(&shown, &text, &known, |k| {
            // An empty variable counts as not set, as the settings treat an empty value.
            typed(k.long) || k.env.is_some_and(|e| std::env::var_os(e).is_some_and(|v| !v.is_empty()))
        })?;
        argv.splice(1..1, extra);
    }
    Ok(Cli::try_parse_from(argv).unwrap_or_else(|e| e.exit()))
}

/// Whether the server's audit key is the one the last stored rotation handed over to.
async fn key_is_current(state: &cjg_server::AppState) -> anyhow::Result<bool> {
    let rotations = state
        .db
        .call(|c| Ok(cjg_server::db::audit::key_rotations(c)?))
        .await
        .map_err(|e| anyhow::anyhow!("reading the audit key rotations failed: {}", e.message))?;
    Ok(cjg_server::audit::is_current_key(&state.audit_key, &rotations))
}

async fn verify_audit(settings: &Settings) -> anyhow::Result<bool> {
    let state = open_state(settings)?;
    let reports = state
        .db
        .call(|c| cjg_server::service::verify_audit(c))
        .await
        .map_err(|e| anyhow::anyhow!("cannot read the audit log: {}", e.message))?;
    let mut intact = true;
    for r in &reports {
        match r {
            ChainReport::Intact { dossier_id, size } => {
                println!("ok      dossier {dossier_id}: {size} lines, chain intact")
            }
            ChainReport::Broken { dossier_id, position, reason } => {
                intact = false;
                println!("BROKEN  dossier {dossier_id}: at line {position}: {reason}");
            }
        }
    }
    println!(
        "{} dossiers checked, {}",
        reports.len(),
        if intact { "all chains intact" } else { "chains broken" }
    );
    Ok(intact)
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let settings = Settings {
        data_dir: cli.data_dir.unwrap_or_else(default_data_dir),
        database_url: cli.database_url.filter(|u| !u.trim().is_empty()),
        db_pool: cli.db_pool,
        attempts_per_minute: cli.attempts_per_minute,
        trusted_proxies: cli.trusted_proxies.clone(),
        staff_idle_minutes: cli.staff_idle_minutes,
        denied_retention_days: cli.denied_retention_days,
        hash_concurrency: cli
            .hash_concurrency
            .map_or_else(|| std::thread::available_parallelism().map_or(2, usize::from), |n| n as usize),
        clock: cjg_server::Clock::offset_days(cli.clock_offset_days),
        purpose_minutes: cli.purpose_minutes,
        oidc: cli.oidc_config.as_deref().map(cjg_server::oidc::OidcConfig::load).transpose()?,
        fhir: cli
            .fhir_config
            .as_deref()
            .map(cjg_server::fhir::FhirConfig::load)
            .transpose()?
            .map(std::sync::Arc::new),
        metrics_token: cli.metrics_token.filter(|t| !t.trim().is_empty()),
    };
    if settings.metrics_token.as_ref().is_some_and(|t| t.len() < 16) {
        anyhow::bail!("--metrics-token must be at least 16 characters (a random one: openssl rand -hex 24)");
    }
    match cli.command {
        Some(Command::VerifyAudit) => {
            let intact = verify_audit(&settings).await?;
            return Ok(if intact { ExitCode::SUCCESS } else { ExitCode::from(1) });
        }
        Some(Command::SeedLoad { families, entries, log_lines }) => {
            let state = open_state(&settings)?;
            let now = state.clock.now();
            demo::seed_if_empty(&state.db, now)
                .await
                .map_err(|e| anyhow::anyhow!("demo seed failed: {}", e.message))?;
            let n = demo::seed_load(&state.db, now, families as usize, entries as usize, log_lines as usize)
                .await
                .map_err(|e| anyhow::anyhow!("load seed failed: {}", e.message))?;
            println!("{n} load families added");
            return Ok(ExitCode::SUCCESS);
        }
        Some(Command::AddStaff { username, name, role }) => {
            add_staff(&settings, &username, &name, &role).await?;
            return Ok(ExitCode::SUCCESS);
        }
        Some(Command::ResetSecondFactor { username }) => {
            let state = open_state(&settings)?;
            let name = username.clone();
            let code = cjg_server::auth::new_one_time_code().map_err(|e| anyhow::anyhow!("{}", e.message))?;
            let shown = code.clone();
            let expires =
                state.clock.now() + chrono::Duration::days(cjg_core::second_factor::SETUP_CODE_DAYS);
            let found = state
                .db
                .write(move |tx| {
                    let hash = |id| cjg_server::auth::setup_code_hash(id, &code);
                    Ok(cjg_server::db::staff::reset_second_factor(tx, &name, hash, expires)?)
                })
                .await
                .map_err(|e| anyhow::anyhow!("reset failed: {}", e.message))?;
            if found.is_none() {
                anyhow::bail!("no staff account {username:?}");
            }
            println!("Tweede factor van {username} gewist; de medewerker is overal uitgelogd.");
            print_setup_code(&shown, expires);
            return Ok(ExitCode::SUCCESS);
        }
        Some(Command::LinkStaff { username, subject }) => {
            link_staff(&settings, &username, &subject).await?;
            return Ok(ExitCode::SUCCESS);
        }
        Some(Command::Report { period, format, out }) => {
            report(&settings, &period, format, out).await?;
            return Ok(ExitCode::SUCCESS);
        }
        Some(Command::Usage { period, format, out }) => {
            usage(&settings, &period, format, out).await?;
            return Ok(ExitCode::SUCCESS);
        }
        Some(Command::Backup { to }) => {
            if settings.database_url.is_some() {
                anyhow::bail!("PostgreSQL: make the backup with pg_dump (README, \"Backups\")");
            }
            let summary = cjg_server::backup::backup(&settings.database_path(), &to)?;
            println!(
                "ok: {} ({} bytes, schema {}, {} dossiers, {} access-log lines). Keep \
                 audit-signing.key from {} apart from it: a restore needs it.",
                to.display(),
                summary.bytes,
                summary.schema,
                summary.dossiers,
                summary.audit_lines,
                settings.data_dir.display()
            );
            return Ok(ExitCode::SUCCESS);
        }
        Some(Command::Retention { years, apply }) => {
            retention(&settings, years, apply).await?;
            return Ok(ExitCode::SUCCESS);
        }
        Some(Command::RotateAuditKey) => {
            rotate_audit_key(&settings).await?;
            return Ok(ExitCode::SUCCESS);
        }
        Some(Command::Restore { from, audit_key }) => {
            if settings.database_url.is_some() {
                anyhow::bail!("PostgreSQL: restore with pg_restore (README, \"Backups\")");
            }
            let summary = cjg_server::backup::restore(&from, &settings.data_dir, audit_key.as_deref())?;
            println!(
                "ok: restored into {} ({} dossiers, {} access-log lines). Start the server on it; \
                 then run verify-audit.",
                settings.database_path().display(),
                summary.dossiers,
                summary.audit_lines
            );
            return Ok(ExitCode::SUCCESS);
        }
        None => {}
    }
    let backend = if settings.database_url.is_some() { "postgresql" } else { "sqlite" };
    tracing::info!(data_dir = %settings.data_dir.display(), backend, listen = %cli.listen, demo = cli.demo, "starting");
    let tls = match (&cli.tls_cert, &cli.tls_key) {
        (Some(cert), Some(key)) => {
            Some(cjg_server::load_tls(&cjg_server::TlsFiles { cert: cert.clone(), key: key.clone() }).await?)
        }
        (None, None) => None,
        _ => anyhow::bail!("--tls-cert and --tls-key go together"),
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let state = open_state(&settings)?;
    if !key_is_current(&state).await? {
        anyhow::bail!(
            "{} is not the key the last `rotate-audit-key` handed over to, so every app would \
             refuse the access log. If that command was interrupted, move {} into its place; \
             otherwise restore the key kept with the last backup.",
            cjg_server::audit::KEY_FILE,
            cjg_server::audit::NEW_KEY_FILE
        );
    }
    if !state.built_in_accounts() {
        // Password sign-ins made while they were allowed end now, so turning the option back
        // on later does not revive them.
        let ended = state
            .db
            .call(|c| Ok(cjg_server::db::devices::delete_password_staff_tokens(c)?))
            .await
            .map_err(|e| anyhow::anyhow!("ending password sign-ins failed: {}", e.message))?;
        if ended > 0 {
            tracing::info!(ended, "built-in accounts are off: their sign-ins ended");
        }
    }
    let listener = tokio::net::TcpListener::bind(cli.listen).await?;
    let addr = listener.local_addr()?;
    let mut ready =
        Ready { url: format!("{scheme}://{addr}"), demo_codes: Vec::new(), demo_accounts: Vec::new() };
    if cli.demo {
        let seeded = demo::seed_if_empty(&state.db, state.clock.now())
            .await
            .map_err(|e| anyhow::anyhow!("demo seed failed: {}", e.message))?;
        let codes = demo::issue_family_codes(&state.db, state.clock.now())
            .await
            .map_err(|e| anyhow::anyhow!("demo codes failed: {}", e.message))?;
        // Printed to stdout for the person starting the demo, deliberately not through the log.
        println!("Demo-gezinnen Voorbeeld en Proef {}", if seeded { "aangemaakt" } else { "staan al klaar" });
        println!("Activatiecodes (7 dagen geldig, één keer te gebruiken):");
        for c in &codes {
            println!("  code {:<16} {:<8} {}", c.name, c.role, c.code);
        }
        ready.demo_codes = codes
            .iter()
            .map(|c| ReadyCode {
                person_id: c.person_id,
                name: c.name.clone(),
                role: c.role.into(),
                code: c.code.clone(),
            })
            .collect();
        ready.demo_accounts = demo::ACCOUNTS
            .iter()
            .map(|(username, role)| ReadyAccount {
                username: (*username).into(),
                password: demo::COACH_PASSWORD.into(),
                role: role.as_str().into(),
            })
            .collect();
        for username in [demo::OTHER_COACH_USERNAME, demo::COACH_USERNAME] {
            println!("Coach: gebruikersnaam {username} wachtwoord {}", demo::COACH_PASSWORD);
        }
        println!(
            "Kwaliteit (indicatorrapport): gebruikersnaam {} wachtwoord {}",
            demo::QUALITY_USERNAME,
            demo::COACH_PASSWORD
        );
        println!(
            "Gedragswetenschapper (informatie goedkeuren): gebruikersnaam {} wachtwoord {}",
            demo::EDITOR_USERNAME,
            demo::COACH_PASSWORD
        );
        println!("De demo-accounts vragen geen tweede factor (alleen voor de demo); echte accounts wel.");
    }
    println!("cjg-server luistert op {scheme}://{addr}");
    if let Some(path) = &cli.ready_file {
        ready.write(path).with_context(|| format!("cannot write the ready file {}", path.display()))?;
    }
    serve(listener, state, tls, shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}

#[tokio::main]
async fn main() -> ExitCode {
    let logs = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr);
    // One JSON object a line, for a log collector; text for a person at a terminal.
    if std::env::var("CJG_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        logs.json().init();
    } else {
        logs.init();
    }
    let cli = match parse_with_config_file() {
        Ok(cli) => cli,
        Err(e) => {
            eprintln!("cjg-server: {e:#}");
            return ExitCode::from(2);
        }
    };
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("cjg-server: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// An address (`192.0.2.7`) or a block (`10.0.0.0/8`, `fd00::/8`).
fn parse_net(s: &str) -> Result<ipnet::IpNet, String> {
    let s = s.trim();
    s.parse::<ipnet::IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{s:?} is not an address or CIDR block"))
}
