//! The Tauri shell: each command is a one-line adapter over `cjg_client::app::AppCore`.
//! No rules live here; keys and PINs never cross back to the webview.

use std::time::{Duration, Instant};

use cjg_client::app::{
    AnswersSent, AppCore, AppStatus, ArticleView, BerichtenView, DevicesView, DossierQuery, DossierView,
    EntryDetail, FeedbackSent, InformatieView, InzageQuery, InzageView, MessageSent, MyDataView,
    QuestionnaireView, TasksView,
};
use cjg_client::export::PdfDoc;
use cjg_client::secret::Vault;
use cjg_client::settings::ShellSettings;
use cjg_client::staff::StaffDossierView;
use cjg_client::{Progress, UiError};
use cjg_core::api::{CaseloadDossier, StaffSignInOptions};
use cjg_core::article::{ArticleDraft, ShowAt, StaffArticle, StaffTip, Topic};
use cjg_core::audit::Purpose;
use cjg_core::feedback::FeedbackKind;
use cjg_core::markdown::Block;
use cjg_core::questionnaire::Answers;
use tauri::{AppHandle, Emitter, Manager, State};
use uuid::Uuid;

type Res<T> = Result<T, UiError>;

#[tauri::command]
async fn status(core: State<'_, AppCore>) -> Res<AppStatus> {
    core.status().await.map_err(|e| e.to_ui())
}

#[tauri::command]
async fn check_server(core: State<'_, AppCore>, server_url: String) -> Res<()> {
    core.check_server(&server_url).await.map_err(|e| e.to_ui())
}

#[tauri::command]
async fn enrol(
    app: AppHandle,
    core: State<'_, AppCore>,
    server_url: String,
    code: String,
    pin: String,
    pin_again: String,
    label: String,
) -> Res<()> {
    core.enrol(&server_url, &code, &pin, &pin_again, &label).await.map_err(|e| e.to_ui())?;
    start_listening(app);
    Ok(())
}

#[tauri::command]
async fn unlock(app: AppHandle, core: State<'_, AppCore>, account_id: Uuid, pin: String) -> Res<()> {
    core.unlock(account_id, &pin).await.map_err(|e| e.to_ui())?;
    start_listening(app);
    Ok(())
}

#[tauri::command]
async fn unlock_with_keychain(app: AppHandle, core: State<'_, AppCore>, account_id: Uuid) -> Res<()> {
    core.unlock_with_keychain(account_id).await.map_err(|e| e.to_ui())?;
    start_listening(app);
    Ok(())
}

#[tauri::command]
async fn set_key_unlock(core: State<'_, AppCore>, enabled: bool) -> Res<()> {
    core.set_key_unlock(enabled).await.map_err(|e| e.to_ui())
}

#[tauri::command]
async fn forget_account(core: State<'_, AppCore>, account_id: Uuid) -> Res<()> {
    core.forget_account(account_id).await.map_err(|e| e.to_ui())
}

#[tauri::command]
async fn lock(core: State<'_, AppCore>) -> Res<()> {
    core.lock().await;
    Ok(())
}

/// `check_log`: the person asked for it (Vernieuwen, unlocking), so the whole access log is
/// checked too; the quiet sync in the background leaves that to the hourly check.
#[tauri::command]
async fn sync(app: AppHandle, core: State<'_, AppCore>, check_log: bool) -> Res<Progress> {
    let progress = |p| {
        let _ = app.emit("sync-progress", p);
    };
    let done = if check_log { core.sync_checking_log(progress).await } else { core.sync(progress).await };
    done.map_err(|e| e.to_ui())
}

#[tauri::command]
async fn dossier(core: State<'_, AppCore>, query: DossierQuery) -> Res<DossierView> {
    core.dossier_page(&query).await.map_err(|e| e.to_ui())
}

#[tauri::command]
async fn entry(core: State<'_, AppCore>, id: Uuid) -> Res<Option<EntryDetail>> {
    core.entry(id).await.map_err(|e| e.to_ui())
}

/// The person pressed a key or clicked: postpones the auto-lock.
#[tauri::command]
fn touch(core: State<'_, AppCore>) {
    core.touch();
}

#[tauri::command]
async fn change_pin(
    core: State<'_, AppCore>,
    old_pin: String,
    new_pin: String,
    new_pin_again: String,
) -> Res<()> {
    core.change_pin(&old_pin, &new_pin, &new_pin_again).await.map_err(|e| e.to_ui())
}

#[tauri::command]
async fn devices(core: State<'_, AppCore>) -> Res<DevicesView> {
    core.devices().await.map_err(|e| e.to_ui())
}

#[tauri::command]
async fn revoke_device(core: State<'_, AppCore>, device_id: Uuid) -> Res<()> {
    core.revoke_device(device_id).await.map_err(|e| e.to_ui())
}

#[tauri::command]
async fn inzage(core: State<'_, AppCore>, query: InzageQuery) -> Res<InzageView> {
    core.inzage_page(&query).await.map_err(|e| e.to_ui())
}

#[tauri::command]
async fn mark_inzage_seen(core: State<'_, AppCore>) -> Res<()> {
    core.mark_inzage_seen().await.map_err(|e| e.to_ui())
}

#[tauri::command]
async fn dismiss_audit_warnings(core: State<'_, AppCore>) -> Res<()> {
    core.dismiss_audit_warnings().await.map_err(|e| e.to_ui())
}

/// Saves the CSV export the person asked for (rows worded by the UI, the first the headings);
/// answers with the path to show.
#[tauri::command]
async fn save_export(core: State<'_, AppCore>, file_name: String, rows: Vec<Vec<String>>) -> Res<String> {
    core.save_export(&file_name, &rows).await.map(|p| p.display().to_string()).map_err(|e| e.to_ui())
}

#[tauri::command]
async fn save_export_pdf(core: State<'_, AppCore>, file_name: String, doc: PdfDoc) -> Res<String> {
    core.save_pdf(&file_name, &doc).await.map(|p| p.display().to_string()).map_err(|e| e.to_ui())
}

/// Everything the app holds of the person's dossier, for their own PDF (worded by the UI).
#[tauri::command]
async fn my_data(core: State<'_, AppCore>) -> Res<MyDataView> {
    core.my_data().await.map_err(|e| e.to_ui())
}

/// The same as a FHIR Bundle in the export folder; answers with the path to show.
#[tauri::command]
async fn save_fhir_export(core: State<'_, AppCore>) -> Res<String> {
    core.save_fhir_export().await.map(|p| p.display().to_string()).map_err(|e| e.to_ui())
}

#[tauri::command]
async fn staff_login(
    core: State<'_, AppCore>,
    server_url: String,
    username: String,
    password: String,
    one_time_code: Option<String>,
) -> Res<String> {
    core.staff_login(&server_url, &username, &password, one_time_code.as_deref()).await.map_err(|e| e.to_ui())
}

#[tauri::command]
async fn staff_setup_second_factor(
    core: State<'_, AppCore>,
    server_url: String,
    username: String,
    password: String,
    setup_code: String,
) -> Res<cjg_client::staff::SecondFactorSetupView> {
    core.staff_setup_second_factor(&server_url, &username, &password, &setup_code)
        .await
        .map_err(|e| e.to_ui())
}

#[tauri::command]
async fn staff_confirm_second_factor(
    core: State<'_, AppCore>,
    server_url: String,
    username: String,
    password: String,
    setup_code: String,
    code: String,
) -> Res<Vec<String>> {
    core.staff_confirm_second_factor(&server_url, &username, &password, &setup_code, &code)
        .await
        .map_err(|e| e.to_ui())
}

/// Signs out; a sign-in at the organisation also ends there, in the system browser.
#[tauri::command]
async fn staff_logout(app: AppHandle, core: State<'_, AppCore>, browser: State<'_, Browser>) -> Res<()> {
    if let Some(end) = core.staff_sign_out().await {
        let _ = browser.open(&app, &end);
    }
    Ok(())
}

#[tauri::command]
async fn staff_sign_in_options(core: State<'_, AppCore>, server_url: String) -> Res<StaffSignInOptions> {
    core.staff_sign_in_options(&server_url).await.map_err(|e| e.to_ui())
}

/// The organisation's sign-in page in the system browser; the app waits for it to come back.
#[tauri::command]
async fn staff_sign_in_at_organisation(
    app: AppHandle,
    core: State<'_, AppCore>,
    browser: State<'_, Browser>,
    server_url: String,
) -> Res<()> {
    core.staff_sign_in_at_organisation(&server_url, |url| browser.open(&app, url))
        .await
        .map_err(|e| e.to_ui())
}

/// The person stopped waiting for the browser.
#[tauri::command]
fn staff_sign_in_cancel(core: State<'_, AppCore>) {
    core.staff_sign_in_cancel();
}

/// Opens web pages outside the app: the default browser, or `CJG_BROWSER`.
struct Browser(Option<String>);

impl Browser {
    fn open(&self, app: &AppHandle, url: &str) -> cjg_client::Result<()> {
        use tauri_plugin_opener::OpenerExt;
        app.opener()
            .open_url(url, self.0.as_deref())
            .map_err(|e| cjg_client::ClientError::BrowserNotOpened(e.to_string()))
    }
}

#[tauri::command]
async fn staff_caseload(core: State<'_, AppCore>) -> Res<Vec<CaseloadDossier>> {
    core.staff_caseload().await.map_err(|e| e.to_ui())
}

#[tauri::command]
async fn staff_open(
    core: State<'_, AppCore>,
    dossier_id: Uuid,
    purpose: Purpose,
    note: String,
) -> Res<StaffDossierView> {
    core.staff_open(dossier_id, purpose, &note).await.map_err(|e| e.to_ui())
}

#[tauri::command]
async fn send_feedback(
    core: State<'_, AppCore>,
    entry_id: Uuid,
    kind: FeedbackKind,
    text: String,
) -> Res<FeedbackSent> {
    core.send_feedback(entry_id, kind, &text).await.map_err(|e| e.to_ui())
}

#[tauri::command]
async fn discard_feedback(core: State<'_, AppCore>, id: Uuid) -> Res<()> {
    core.discard_feedback(id).await.map_err(|e| e.to_ui())
}

#[tauri::command]
async fn tasks(core: State<'_, AppCore>) -> Res<TasksView> {
    core.tasks().await.map_err(|e| e.to_ui())
}

#[tauri::command]
async fn my_progress(core: State<'_, AppCore>) -> Res<cjg_core::questionnaire::MyProgress> {
    core.my_progress().await.map_err(|e| e.to_ui())
}

#[tauri::command]
async fn questionnaire(core: State<'_, AppCore>, task_id: Uuid) -> Res<Option<QuestionnaireView>> {
    core.questionnaire(task_id).await.map_err(|e| e.to_ui())
}

#[tauri::command]
async fn save_questionnaire_draft(
    core: State<'_, AppCore>,
    task_id: Uuid,
    answers: Answers,
) -> Res<chrono::DateTime<chrono::Utc>> {
    core.save_questionnaire_draft(task_id, answers).await.map_err(|e| e.to_ui())
}

#[tauri::command]
async fn submit_questionnaire(core: State<'_, AppCore>, task_id: Uuid, answers: Answers) -> Res<AnswersSent> {
    core.submit_questionnaire(task_id, answers).await.map_err(|e| e.to_ui())
}

#[tauri::command]
async fn take_back_refused_answers(core: State<'_, AppCore>, task_id: Uuid) -> Res<()> {
    core.take_back_refused_answers(task_id).await.map_err(|e| e.to_ui())
}

#[tauri::command]
async fn informatie(
    core: State<'_, AppCore>,
    query: String,
    topic: Option<Topic>,
    age: Option<u8>,
    only_useful: bool,
) -> Res<InformatieView> {
    core.informatie(&query, topic, age, only_useful).await.map_err(|e| e.to_ui())
}

#[tauri::command]
async fn set_article_useful(core: State<'_, AppCore>, id: Uuid, useful: bool) -> Res<()> {
    core.set_article_useful(id, useful).await.map_err(|e| e.to_ui())
}

#[tauri::command]
async fn article(core: State<'_, AppCore>, id: Uuid) -> Res<Option<ArticleView>> {
    core.article(id).await.map_err(|e| e.to_ui())
}

#[tauri::command]
async fn berichten(core: State<'_, AppCore>) -> Res<BerichtenView> {
    core.berichten().await.map_err(|e| e.to_ui())
}

#[tauri::command]
async fn mark_messages_read(core: State<'_, AppCore>) -> Res<()> {
    core.mark_messages_read().await.map_err(|e| e.to_ui())
}

#[tauri::command]
async fn send_message(core: State<'_, AppCore>, text: String) -> Res<MessageSent> {
    core.send_message(&text).await.map_err(|e| e.to_ui())
}

#[tauri::command]
async fn discard_message(core: State<'_, AppCore>, id: Uuid) -> Res<()> {
    core.discard_message(id).await.map_err(|e| e.to_ui())
}

#[tauri::command]
async fn staff_send_message(
    core: State<'_, AppCore>,
    person_id: Uuid,
    text: String,
) -> Res<cjg_core::message::Message> {
    core.staff_send_message(person_id, &text).await.map_err(|e| e.to_ui())
}

#[tauri::command]
async fn staff_create_tip(
    core: State<'_, AppCore>,
    dossier_id: Uuid,
    person_id: Uuid,
    article_id: Uuid,
    note: String,
    show_at: ShowAt,
) -> Res<Vec<StaffTip>> {
    core.staff_create_tip(dossier_id, person_id, article_id, &note, show_at).await.map_err(|e| e.to_ui())
}

#[tauri::command]
async fn staff_articles(core: State<'_, AppCore>) -> Res<Vec<StaffArticle>> {
    core.staff_articles().await.map_err(|e| e.to_ui())
}

#[tauri::command]
async fn staff_save_article(
    core: State<'_, AppCore>,
    id: Option<Uuid>,
    draft: ArticleDraft,
) -> Res<Vec<StaffArticle>> {
    core.staff_save_article(id, draft).await.map_err(|e| e.to_ui())
}

#[tauri::command]
async fn staff_approve_article(
    core: State<'_, AppCore>,
    id: Uuid,
    revision: u32,
    text_hash: String,
) -> Res<Vec<StaffArticle>> {
    core.staff_approve_article(id, revision, text_hash).await.map_err(|e| e.to_ui())
}

#[tauri::command]
async fn staff_withdraw_article(core: State<'_, AppCore>, id: Uuid) -> Res<Vec<StaffArticle>> {
    core.staff_withdraw_article(id).await.map_err(|e| e.to_ui())
}

/// Whether the person shares how they use the app (off unless they turned it on).
#[tauri::command]
async fn usage_sharing(core: State<'_, AppCore>) -> Res<bool> {
    core.usage_sharing().await.map_err(|e| e.to_ui())
}

#[tauri::command]
async fn set_usage_sharing(core: State<'_, AppCore>, on: bool) -> Res<()> {
    core.set_usage_sharing(on).await.map_err(|e| e.to_ui())
}

/// The window shows a part of the app; kept (sealed, this month only) while sharing is on.
#[tauri::command]
async fn note_use(core: State<'_, AppCore>, question: cjg_core::usage::UsageQuestion) -> Res<()> {
    core.note_use(question).await.map_err(|e| e.to_ui())
}

/// A staff report as CSV (rows worded by the UI); answers with the path to show.
#[tauri::command]
async fn staff_save_export(
    core: State<'_, AppCore>,
    file_name: String,
    rows: Vec<Vec<String>>,
) -> Res<String> {
    core.staff_save_export(&file_name, &rows).await.map(|p| p.display().to_string()).map_err(|e| e.to_ui())
}

/// How the app is used, for quality staff and managers: counts per team, no person.
#[tauri::command]
async fn staff_usage_report(core: State<'_, AppCore>, period: String) -> Res<cjg_core::usage::UsageReport> {
    core.staff_usage_report(&period).await.map_err(|e| e.to_ui())
}

#[tauri::command]
fn preview_markdown(body: String) -> Res<Vec<Block>> {
    cjg_client::staff::preview_markdown(&body).map_err(|e| e.to_ui())
}

#[tauri::command]
async fn set_consent(core: State<'_, AppCore>, shares_with_parents: bool) -> Res<()> {
    core.set_consent(shares_with_parents).await.map_err(|e| e.to_ui())
}

/// While the account stays open: syncs when the server says something changed, tells the
/// window (which shows what came in), and gives a notice without content when a new message
/// or task came while the window is not in front. Ends by itself at lock.
fn start_listening(app: AppHandle) {
    tauri::async_runtime::spawn(async move {
        let core = app.state::<AppCore>();
        core.listen(|synced| match synced {
            Ok(news) => {
                let _ = app.emit("push-synced", news);
                if news.any() && !in_front(&app) {
                    notify_news(&app);
                }
            }
            Err(e) => {
                let _ = app.emit("push-failed", e.to_ui());
            }
        })
        .await;
    });
}

fn in_front(app: &AppHandle) -> bool {
    app.get_webview_window("main").is_some_and(|w| {
        w.is_focused().unwrap_or(false)
            && w.is_visible().unwrap_or(false)
            && !w.is_minimized().unwrap_or(false)
    })
}

/// The notice says only that there is news: the lock screen of a shared computer and the
/// notification history of the OS keep what it says, so it names no one and nothing.
///
/// Shown off the async threads: on Linux it is a D-Bus call, which can wait many seconds for a
/// notification service that is being started (or never comes), and must not hold up the
/// commands meanwhile.
fn notify_news(app: &AppHandle) {
    let app = app.clone();
    tauri::async_runtime::spawn_blocking(move || {
        use tauri_plugin_notification::NotificationExt;
        let shown =
            app.notification().builder().title("Mijn CJG").body("Er is iets nieuws in Mijn CJG.").show();
        if let Err(e) = shown {
            eprintln!("Mijn CJG: the notice could not be shown: {e}");
        }
    });
}

/// Checks every few seconds whether the app has been idle too long, locks it, and tells the
/// window, which then shows the PIN screen.
fn start_auto_lock(app: AppHandle) {
    tauri::async_runtime::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(5)).await;
            let core = app.state::<AppCore>();
            if core.lock_if_idle(Instant::now()).await {
                let _ = app.emit("locked", ());
            }
        }
    });
}

#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    let result = tauri::Builder::default()
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_opener::init())
        .setup(|app| {
            let settings = ShellSettings::from_env();
            if let Some(path) = &settings.ca_file {
                let trusted = std::fs::read(path)
                    .map_err(|e| e.to_string())
                    .and_then(|pem| cjg_client::trust_extra_ca(&pem).map_err(|e| e.to_string()));
                if let Err(e) = trusted {
                    eprintln!("Mijn CJG: CJG_CA_FILE {} is not used: {e}", path.display());
                }
            }
            for w in &settings.warnings {
                eprintln!("{w}");
            }
            let dir = match settings.data_dir {
                Some(d) => d,
                None => app.path().app_data_dir()?,
            };
            let exports = settings.export_dir.or_else(|| app.path().download_dir().ok());
            app.manage(
                AppCore::new(dir.clone(), settings.server_url)
                    .with_vault(Vault::new(Vault::SERVICE, settings.use_keychain))
                    .with_auto_lock(settings.auto_lock)
                    .with_sync_every(settings.sync_every_minutes)
                    .with_export_dir(exports),
            );
            app.manage(Browser(settings.browser.clone()));
            start_auto_lock(app.handle().clone());
            // The webview's own storage (the colour choice) lives with the app's data, so a
            // second data directory (another person's, a test's) starts from its own.
            if let Some(window) = app.config().app.windows.first() {
                tauri::WebviewWindowBuilder::from_config(app, window)?
                    .data_directory(dir.join("webview"))
                    .build()?;
            }
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            status,
            check_server,
            enrol,
            unlock,
            unlock_with_keychain,
            set_key_unlock,
            forget_account,
            lock,
            sync,
            dossier,
            entry,
            touch,
            change_pin,
            devices,
            revoke_device,
            set_consent,
            inzage,
            mark_inzage_seen,
            dismiss_audit_warnings,
            save_export,
            save_export_pdf,
            my_data,
            save_fhir_export,
            staff_login,
            staff_setup_second_factor,
            staff_confirm_second_factor,
            staff_logout,
            staff_sign_in_options,
            staff_sign_in_at_organisation,
            staff_sign_in_cancel,
            staff_caseload,
            staff_open,
            send_feedback,
            discard_feedback,
            tasks,
            my_progress,
            questionnaire,
            save_questionnaire_draft,
            submit_questionnaire,
            take_back_refused_answers,
            informatie,
            article,
            berichten,
            mark_messages_read,
            send_message,
            discard_message,
            staff_send_message,
            set_article_useful,
            staff_create_tip,
            staff_articles,
            staff_save_article,
            staff_approve_article,
            staff_withdraw_article,
            staff_usage_report,
            staff_save_export,
            usage_sharing,
            set_usage_sharing,
            note_use,
            preview_markdown
        ])
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("Mijn CJG could not start: {e}");
        std::process::exit(1);
    }
}
