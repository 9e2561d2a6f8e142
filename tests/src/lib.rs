//! Test support: starts the real `cjg-server` binary on a free loopback port with a temporary
//! data directory, and talks to it as staff would.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use cjg_core::api::{ActivationCodeResponse, EntryUpdate};
use cjg_core::article::{StaffArticle, StaffTip};
pub use cjg_core::entry::EntryDraft;
use cjg_core::feedback::Feedback;
use cjg_core::message::{Message, StaffMessageDraft};
use cjg_core::questionnaire::StaffQuestionnaire;
pub use cjg_core::{Entry, EntryKind};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use uuid::Uuid;

pub mod desktop;
pub mod fhir;
pub mod oidc;

pub use cjg_server::db::sql::{self, Row};
pub use cjg_server::params;

/// Set (`postgres://user@host:port`, no database name) to run the server on PostgreSQL: each
/// test server then gets a database of its own on that cluster. `scripts/test` runs the server
/// tests once on SQLite and once on a private PostgreSQL cluster (`scripts/with-postgres`).
pub const POSTGRES_ENV: &str = "CJG_TEST_POSTGRES";

pub fn on_postgres() -> bool {
    std::env::var(POSTGRES_ENV).is_ok_and(|v| !v.is_empty())
}

fn postgres_base() -> Option<String> {
    std::env::var(POSTGRES_ENV).ok().filter(|v| !v.is_empty()).map(|v| v.trim_end_matches('/').to_owned())
}

type Job = Box<dyn FnOnce(&sql::Conn) + Send>;

/// A look into the server's own database, for checks (and tampering) the API does not offer.
/// On PostgreSQL the connection lives on a thread of its own: the sync client may not block a
/// thread that drives async tasks, and the tests are async.
pub enum TestDb {
    Sqlite(Box<sql::Conn>),
    Postgres(std::sync::mpsc::Sender<Job>),
}

impl TestDb {
    fn postgres(url: String) -> Self {
        let (jobs, rx) = std::sync::mpsc::channel::<Job>();
        std::thread::spawn(move || {
            let conn = sql::Conn::connect_postgres(&url).expect("connect to the test database");
            for job in rx {
                job(&conn);
            }
        });
        TestDb::Postgres(jobs)
    }

    fn with<T: Send + 'static>(&self, f: impl FnOnce(&sql::Conn) -> T + Send + 'static) -> T {
        match self {
            TestDb::Sqlite(c) => f(c),
            TestDb::Postgres(jobs) => {
                let (tx, rx) = std::sync::mpsc::channel();
                jobs.send(Box::new(move |c| {
                    let _ = tx.send(f(c));
                }))
                .expect("database thread");
                rx.recv().expect("database thread answered")
            }
        }
    }

    pub fn query_row<T: Send + 'static>(
        &self,
        query: &str,
        params: impl sql::Params,
        f: impl FnOnce(&Row) -> sql::Result<T> + Send + 'static,
    ) -> sql::Result<T> {
        let (query, values) = (query.to_owned(), params.with_values(<[sql::Value]>::to_vec));
        self.with(move |c| sql::QueryExt::query_row(c, &query, values.as_slice(), f))
    }

    pub fn query_map<T: Send + 'static>(
        &self,
        query: &str,
        params: impl sql::Params,
        f: impl FnMut(&Row) -> sql::Result<T> + Send + 'static,
    ) -> sql::Result<Vec<T>> {
        let (query, values) = (query.to_owned(), params.with_values(<[sql::Value]>::to_vec));
        self.with(move |c| sql::QueryExt::query_map(c, &query, values.as_slice(), f))
    }

    pub fn execute(&self, query: &str, params: impl sql::Params) -> sql::Result<usize> {
        let (query, values) = (query.to_owned(), params.with_values(<[sql::Value]>::to_vec));
        self.with(move |c| sql::QueryExt::execute(c, &query, values.as_slice()))
    }

    /// The change feed's newest sequence number (SQLite counts in a row, PostgreSQL in a
    /// sequence).
    pub fn top_seq(&self) -> i64 {
        let query = match self {
            TestDb::Sqlite(_) => "SELECT value FROM seq_counter WHERE id = 1",
            TestDb::Postgres(_) => "SELECT last_value FROM change_seq",
        };
        self.query_row(query, sql::params![], |r| r.get(0)).expect("the newest sequence number")
    }

    /// Draws a new sequence number, as a write does.
    pub fn next_seq(&self) -> i64 {
        let query = match self {
            TestDb::Sqlite(_) => "UPDATE seq_counter SET value = value + 1 WHERE id = 1 RETURNING value",
            TestDb::Postgres(_) => "SELECT nextval('change_seq')",
        };
        self.query_row(query, sql::params![], |r| r.get(0)).expect("a new sequence number")
    }
}

/// Runs `f` with a connection to the cluster's maintenance database, on a plain thread.
fn postgres_admin(base: &str, f: impl FnOnce(&sql::Conn) -> sql::Result<()> + Send + 'static) -> Result<()> {
    let url = format!("{base}/postgres");
    std::thread::spawn(move || f(&sql::Conn::connect_postgres(&url)?))
        .join()
        .map_err(|_| anyhow::anyhow!("postgres admin thread panicked"))?
        .map_err(Into::into)
}

/// The database of the test server on `data_dir`: made on first use, found again on a restart.
fn postgres_database(base: &str, data_dir: &Path) -> Result<String> {
    let marker = data_dir.join("test-postgres-database");
    if let Ok(name) = std::fs::read_to_string(&marker) {
        return Ok(name);
    }
    let name = format!("cjg_test_{}", Uuid::new_v4().simple());
    let create =
        format!("CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'");
    postgres_admin(base, move |c| sql::QueryExt::execute(c, &create, params![]).map(|_| ()))?;
    std::fs::write(&marker, &name)?;
    Ok(name)
}

/// The URL of a new, empty database on the test cluster, or `None` when the tests run without
/// PostgreSQL.
pub fn fresh_postgres_database() -> Result<Option<String>> {
    let Some(base) = postgres_base() else { return Ok(None) };
    let dir = tempfile::tempdir()?;
    let name = postgres_database(&base, dir.path())?;
    Ok(Some(format!("{base}/{name}")))
}

/// The middle value of a set of timings (benchmarks report medians, not means).
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

/// Builds the server binary once per test process and returns its path.
pub fn server_binary() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        // Benchmarks are built optimised; they measure an optimised server too.
        let release = !cfg!(debug_assertions);
        let args: &[&str] = if release {
            &["build", "--quiet", "--release", "-p", "cjg-server", "--bin", "cjg-server"]
        } else {
            &["build", "--quiet", "--workspace", "--bins"]
        };
        let status =
            Command::new(cargo).args(args).current_dir(workspace_root()).status().expect("run cargo build");
        assert!(status.success(), "building cjg-server failed");
        let target = std::env::var("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|_| workspace_root().join("target"));
        target.join(if release { "release" } else { "debug" }).join("cjg-server")
    })
    .clone()
}

/// `cjg-server --data-dir DIR` on the database of that directory: its SQLite file, or on
/// PostgreSQL its own database (made on first use). Returns the PostgreSQL database's name.
pub fn server_command(data_dir: &Path) -> Result<(Command, Option<String>)> {
    let mut command = Command::new(server_binary());
    command.arg("--data-dir").arg(data_dir);
    let database = match postgres_base() {
        Some(base) => {
            let name = postgres_database(&base, data_dir)?;
            // Few connections per test server (many run at once); the load test may ask more.
            let pool = std::env::var("CJG_DB_POOL").unwrap_or_else(|_| "4".into());
            command.env("CJG_DATABASE_URL", format!("{base}/{name}")).env("CJG_DB_POOL", pool);
            Some(name)
        }
        None => None,
    };
    Ok((command, database))
}

#[derive(Debug, Clone)]
pub struct DemoCode {
    pub name: String,
    pub code: String,
}

/// A running `cjg-server --demo`. Killed when dropped.
pub struct TestServer {
    child: Child,
    pub url: String,
    pub data_dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
    pub codes: Vec<DemoCode>,
    pub coach_password: String,
    /// The PostgreSQL database name, when the tests run on PostgreSQL.
    pub database: Option<String>,
}

impl TestServer {
    pub fn start() -> Result<Self> {
        Self::start_with(&[])
    }

    pub fn start_with(extra: &[&str]) -> Result<Self> {
        let tmp = tempfile::tempdir()?;
        let dir = tmp.path().to_owned();
        let mut s = Self::start_in(&dir, "127.0.0.1:0", extra)?;
        s._tmp = Some(tmp);
        Ok(s)
    }

    /// Starts on a given data dir and address (for restarts on the same data).
    pub fn start_in(data_dir: &Path, listen: &str, extra: &[&str]) -> Result<Self> {
        let (command, database) = server_command(data_dir)?;
        Self::launch(command, database, data_dir, listen, extra)
    }

    /// [`TestServer::start_in`] on SQLite with every file the server writes limited to
    /// `file_bytes` (RLIMIT_FSIZE through `prlimit`, SIGXFSZ ignored): a write past it fails
    /// as on a full disk, without the root a small file system would need. The server's process
    /// keeps the limit until `prlimit --pid` raises it ([`TestServer::lift_file_limit`]).
    pub fn start_in_with_file_limit(data_dir: &Path, listen: &str, file_bytes: u64) -> Result<Self> {
        let mut command = Command::new("bash");
        command
            .args(["-c", "trap '' XFSZ; exec prlimit --fsize=\"$0\":unlimited -- \"$@\""])
            .arg(file_bytes.to_string())
            .arg(server_binary())
            .arg("--data-dir")
            .arg(data_dir);
        Self::launch(command, None, data_dir, listen, &[])
    }

    /// Space returns: the server's files may grow again.
    pub fn lift_file_limit(&self) {
        let status = Command::new("prlimit")
            .args(["--pid", &self.pid().to_string(), "--fsize=unlimited:unlimited"])
            .status()
            .expect("prlimit");
        assert!(status.success(), "prlimit --pid failed");
    }

    fn launch(
        mut command: Command,
        database: Option<String>,
        data_dir: &Path,
        listen: &str,
        extra: &[&str],
    ) -> Result<Self> {
        // The server says where it listens, and the demo's codes and accounts, in a JSON file:
        // no test reads the Dutch lines it prints for people.
        let ready_file = data_dir.join(format!("ready-{}.json", Uuid::new_v4().simple()));
        let mut child = command
            .args(["--listen", listen, "--demo"])
            .arg("--ready-file")
            .arg(&ready_file)
            .args(extra)
            // CJG_TEST_SERVER_LOG=info shows each request with its time (never its content).
            .env("RUST_LOG", std::env::var("CJG_TEST_SERVER_LOG").unwrap_or_else(|_| "warn".into()))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .context("start cjg-server")?;
        let deadline = Instant::now() + Duration::from_secs(60);
        let ready: cjg_server::ready::Ready = loop {
            if let Ok(text) = std::fs::read(&ready_file) {
                let _ = std::fs::remove_file(&ready_file);
                break serde_json::from_slice(&text).context("the ready file")?;
            }
            if let Some(status) = child.try_wait()? {
                bail!("cjg-server exited ({status}) before it listened");
            }
            if Instant::now() > deadline {
                bail!("cjg-server did not start in time");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let codes = ready.demo_codes.into_iter().map(|c| DemoCode { name: c.name, code: c.code }).collect();
        let coach_password = ready
            .demo_accounts
            .iter()
            .find(|a| a.username == "coach")
            .map(|a| a.password.clone())
            .unwrap_or_default();
        let url = ready.url;
        Ok(Self { child, url, data_dir: data_dir.to_owned(), _tmp: None, codes, coach_password, database })
    }

    /// The server process's id (to read its memory use from /proc).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's command line on this server's database (`verify-audit`, `report`).
    pub fn cli(&self) -> Command {
        server_command(&self.data_dir).expect("server command").0
    }

    /// Adds a built-in staff account (a coach) with `cjg-server add-staff`, as an administrator
    /// does: the password on standard input. The one-time setup code it printed, or `None` when
    /// the command failed.
    pub fn add_staff(&self, username: &str, password: &str) -> Option<String> {
        use std::io::Write;
        let mut child = self
            .cli()
            .args(["add-staff", "--username", username, "--name", "Jan Test", "--role", "coach"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("cjg-server add-staff");
        if let Some(mut stdin) = child.stdin.take() {
            let _ = writeln!(stdin, "{password}");
        }
        let out = child.wait_with_output().ok()?;
        out.status.success().then(|| setup_code_in(&String::from_utf8_lossy(&out.stdout)))?
    }

    /// `cjg-server reset-second-factor`: the new setup code it printed.
    pub fn reset_second_factor(&self, username: &str) -> Option<String> {
        let out = self.cli().args(["reset-second-factor", "--username", username]).output().ok()?;
        out.status.success().then(|| setup_code_in(&String::from_utf8_lossy(&out.stdout)))?
    }

    pub fn code_for(&self, first_name: &str) -> String {
        self.codes.iter().find(|c| c.name.starts_with(first_name)).expect("demo code").code.clone()
    }

    /// The server's own database, for checks the API does not offer.
    pub fn db(&self) -> TestDb {
        match (&self.database, postgres_base()) {
            (Some(name), Some(base)) => TestDb::postgres(format!("{base}/{name}")),
            _ => TestDb::Sqlite(Box::new(sql::Conn::Sqlite(
                rusqlite::Connection::open(self.data_dir.join("cjg-server.db")).unwrap(),
            ))),
        }
    }

    /// The address of the server's PostgreSQL database, when the tests run on PostgreSQL.
    pub fn database_url(&self) -> Option<String> {
        Some(format!("{}/{}", postgres_base()?, self.database.as_ref()?))
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The coach of the Voorbeeld family.
    pub async fn staff(&self) -> Result<Staff> {
        self.staff_as("coach").await
    }

    pub async fn staff_as(&self, username: &str) -> Result<Staff> {
        let http = reqwest::Client::new();
        let resp: Value = http
            .post(format!("{}/v1/staff/login", self.url))
            .json(&json!({"username": username, "password": self.coach_password}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(Staff { http, url: self.url.clone(), token: resp["token"].as_str().context("token")?.to_owned() })
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop();
        // Only a server on its own temporary directory owns its database: one started on a
        // given directory may be a restart that shares it.
        if let (Some(_), Some(name), Some(base)) = (&self._tmp, &self.database, postgres_base()) {
            let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            let _ = postgres_admin(&base, move |c| sql::QueryExt::execute(c, &drop, params![]).map(|_| ()));
        }
    }
}

/// The setup code on the `Instelcode: XXXXX-XXXXX` line the server's command printed.
fn setup_code_in(stdout: &str) -> Option<String> {
    stdout.lines().find_map(|l| l.strip_prefix("Instelcode: ")).map(|c| c.trim().to_owned())
}

/// A signed-in coach, talking to the staff API with the same typed requests and answers
/// (`cjg_core`) as the server and the staff app.
pub struct Staff {
    pub http: reqwest::Client,
    pub url: String,
    pub token: String,
}

/// A draft of a dossier entry about the whole family.
pub fn family_entry(kind: EntryKind, title: &str, body: &str, occurred_on: &str) -> EntryDraft {
    EntryDraft {
        kind,
        child_id: None,
        visibility: None,
        title: title.to_owned(),
        body: body.to_owned(),
        occurred_on: occurred_on.parse().expect("a date YYYY-MM-DD"),
    }
}

impl Staff {
    pub fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.req_for(method, path, "hulpverlening")
    }

    /// A request under another purpose than giving help (`X-Cjg-Purpose`).
    pub fn req_for(&self, method: reqwest::Method, path: &str, purpose: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .header("X-Cjg-Purpose", purpose)
    }

    pub async fn dossier_id(&self, db: &TestDb) -> Uuid {
        let id: String = db
            .query_row("SELECT id FROM dossiers WHERE family_name = 'Voorbeeld'", params![], |r| r.get(0))
            .unwrap();
        Uuid::parse_str(&id).unwrap()
    }

    /// A staff route read with a purpose (`path` starts at `/v1/`), its answer typed.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        Ok(self.req(reqwest::Method::GET, path).send().await?.error_for_status()?.json().await?)
    }

    pub async fn entries(&self, dossier: Uuid) -> Result<Vec<Entry>> {
        self.get(&format!("/v1/staff/dossiers/{dossier}/entries")).await
    }

    /// The dossier's questionnaires with their answers, as the coach sees them.
    pub async fn questionnaires(&self, dossier: Uuid) -> Result<Vec<StaffQuestionnaire>> {
        self.get(&format!("/v1/staff/dossiers/{dossier}/questionnaires")).await
    }

    pub async fn tips(&self, dossier: Uuid) -> Result<Vec<StaffTip>> {
        self.get(&format!("/v1/staff/dossiers/{dossier}/tips")).await
    }

    pub async fn messages(&self, dossier: Uuid) -> Result<Vec<Message>> {
        self.get(&format!("/v1/staff/dossiers/{dossier}/messages")).await
    }

    pub async fn feedback(&self, dossier: Uuid) -> Result<Vec<Feedback>> {
        self.get(&format!("/v1/staff/dossiers/{dossier}/feedback")).await
    }

    pub async fn articles(&self) -> Result<Vec<StaffArticle>> {
        self.get("/v1/staff/articles").await
    }

    /// Sets the trajectory's dates; the answer is the coach's list of questionnaires, or the error.
    pub async fn set_trajectory(&self, dossier: Uuid, body: Value) -> Result<reqwest::Response> {
        Ok(self
            .req(reqwest::Method::PUT, &format!("/v1/staff/dossiers/{dossier}/trajectory"))
            .json(&body)
            .send()
            .await?)
    }

    pub async fn create_entry(&self, dossier: Uuid, draft: &EntryDraft) -> Result<Entry> {
        Ok(self
            .req(reqwest::Method::POST, &format!("/v1/staff/dossiers/{dossier}/entries"))
            .json(draft)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?)
    }

    /// The coach writes to one family member (the answer as the server gave it).
    pub async fn send_message(&self, person: &str, text: &str) -> Result<reqwest::Response> {
        Ok(self
            .req(reqwest::Method::POST, &format!("/v1/staff/people/{person}/messages"))
            .json(&StaffMessageDraft { text: text.to_owned() })
            .send()
            .await?)
    }

    pub async fn update_entry(
        &self,
        id: Uuid,
        expected_version: i64,
        draft: &EntryDraft,
    ) -> Result<reqwest::Response> {
        Ok(self
            .req(reqwest::Method::PUT, &format!("/v1/staff/entries/{id}"))
            .json(&EntryUpdate { expected_version, draft: draft.clone(), reason: None })
            .send()
            .await?)
    }

    pub async fn delete_entry(&self, id: Uuid) -> Result<reqwest::Response> {
        Ok(self.req(reqwest::Method::DELETE, &format!("/v1/staff/entries/{id}")).send().await?)
    }

    /// A fresh activation code for a person of the staff member's caseload.
    pub async fn activation_code(&self, person: &str) -> Result<String> {
        let answer: ActivationCodeResponse = self
            .req(reqwest::Method::POST, &format!("/v1/staff/people/{person}/activation-codes"))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(answer.code)
    }
}

/// Every item of the closing questionnaire for a youth answered, with `tip` as the open answer.
pub fn closing_answers(tip: &str) -> cjg_core::questionnaire::Answers {
    use cjg_core::questionnaire::{Agree, Answer};
    [
        ("zelf_verder", Answer::Agree(Agree::Eens)),
        ("eigen_plan", Answer::Agree(Agree::Eens)),
        ("betrokken", Answer::Agree(Agree::Nvt)),
        ("samenwerking", Answer::Agree(Agree::Oneens)),
        ("cijfer_algemeen", Answer::Rating(4)),
        ("cijfer_coach", Answer::Rating(5)),
        ("cijfer_hulp", Answer::Rating(4)),
        ("tip", Answer::Text(tip.into())),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// The PIN every test person chooses: valid, and not one of the too-simple ones.
pub const PIN: &str = "902417";

/// The app without its window, enrolled as the demo family member `first_name` through `url`
/// (the server's own address, or a proxy in front of it) and synced once. The directory holds
/// the app's data: keep it as long as the app.
pub async fn enrolled_app_via(
    server: &TestServer,
    url: &str,
    first_name: &str,
) -> (tempfile::TempDir, cjg_client::app::AppCore) {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path());
    app.enrol(url, &server.code_for(first_name), PIN, PIN, "").await.unwrap();
    app.sync(|_| {}).await.unwrap();
    (dir, app)
}

/// The device secret of the stores the tests enrol with the client library alone.
pub const DEVICE_SECRET: [u8; 32] = [7; 32];

/// The demo family member `first_name` enrolled with the client library alone (no app core):
/// a store at `dir/<first_name>.db` with the test PIN, kept in the keychain.
pub async fn enrolled_store(server: &TestServer, first_name: &str, dir: &Path) -> cjg_store::Store {
    cjg_client::enrol(
        &server.url,
        &server.code_for(first_name),
        &cjg_core::validate::Pin::parse(PIN).unwrap(),
        &DEVICE_SECRET,
        cjg_store::PinMode::Keychain,
        &dir.join(format!("{first_name}.db")),
        "test",
    )
    .await
    .unwrap_or_else(|e| panic!("enrol {first_name}: {e}"))
}

/// [`enrolled_app_via`] the server's own address.
pub async fn enrolled_app(
    server: &TestServer,
    first_name: &str,
) -> (tempfile::TempDir, cjg_client::app::AppCore) {
    enrolled_app_via(server, &server.url, first_name).await
}

/// What a listening app reports after each sync it made on a signal (the error as its code).
pub type Heard = tokio::sync::mpsc::UnboundedReceiver<std::result::Result<cjg_client::app::News, String>>;

/// Starts `AppCore::listen` in the background; every sync it makes arrives on the channel.
pub fn listening(app: &std::sync::Arc<cjg_client::app::AppCore>) -> (Heard, tokio::task::JoinHandle<()>) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let app = app.clone();
    let task = tokio::spawn(async move {
        app.listen(move |synced| {
            let _ = tx.send(synced.map_err(|e| e.code().to_owned()));
        })
        .await;
    });
    (rx, task)
}

/// The next sync a listening app reports within `within`, or `None`.
pub async fn next_heard(heard: &mut Heard, within: std::time::Duration) -> Option<cjg_client::app::News> {
    tokio::time::timeout(within, heard.recv()).await.ok().flatten().map(|r| r.expect("the sync worked"))
}

/// The app without its window, on `dir`, with secrets in files under a test-only keychain name.
pub fn app(dir: &Path) -> cjg_client::app::AppCore {
    cjg_client::app::AppCore::new(dir.to_owned(), None)
        .with_vault(cjg_client::secret::Vault::new("nl.cjg.mijn.test", false))
}

/// Days from the Dutch today until the person's 16th birthday: the `--clock-offset-days` that
/// puts the server on that day.
pub fn days_until_sixteen(db: &TestDb, display_name: &str) -> i64 {
    use chrono::Datelike;
    let birth: chrono::NaiveDate = db
        .query_row("SELECT birth_date FROM people WHERE display_name = ?1", [display_name], |r| r.get(0))
        .unwrap_or_else(|e| panic!("no person {display_name}: {e}"));
    let sixteenth = birth.with_year(birth.year() + 16).expect("a date 16 years on");
    (sixteenth - cjg_core::time::dutch_date(chrono::Utc::now())).num_days()
}

/// A person's id by display name, straight from the server's database.
pub fn person_id(db: &TestDb, display_name: &str) -> String {
    db.query_row("SELECT id FROM people WHERE display_name = ?1", [display_name], |r| r.get(0))
        .unwrap_or_else(|e| panic!("no person {display_name}: {e}"))
}

/// Every demo text a leak check looks for: titles, bodies (in pieces) and names.
pub fn demo_needles(entries: &[Entry]) -> Vec<String> {
    let mut out = vec!["Voorbeeld".to_owned(), "Sanne".to_owned(), "Fleur Demo".to_owned()];
    for e in entries {
        out.push(e.title.clone());
        out.extend(e.body.split(['\n', '.']).map(str::trim).filter(|s| s.len() >= 12).map(str::to_owned));
    }
    out
}

pub fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// The text of a PDF as a reader gets it out (poppler's `pdftotext`, from Debian's
/// poppler-utils): proof that the export's text is really there, in every script, not only
/// drawn. Runs of spaces and line ends become one space, so a wrapped sentence reads whole.
pub fn pdf_text(pdf: &[u8]) -> String {
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("export.pdf");
    std::fs::write(&file, pdf).expect("write the PDF");
    let out = Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext (Debian: poppler-utils; scripts/setup installs it)");
    assert!(out.status.success(), "pdftotext: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).split_whitespace().collect::<Vec<_>>().join(" ")
}
