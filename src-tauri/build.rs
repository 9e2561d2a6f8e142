/// The app's own commands. Listing them makes Tauri deny every command that a capability
/// does not name (without this list, all app commands are open to every window).
const COMMANDS: &[&str] = &[
    "status",
    "check_server",
    "enrol",
    "unlock",
    "unlock_with_keychain",
    "set_key_unlock",
    "forget_account",
    "lock",
    "sync",
    "dossier",
    "entry",
    "touch",
    "change_pin",
    "devices",
    "revoke_device",
    "set_consent",
    "inzage",
    "mark_inzage_seen",
    "dismiss_audit_warnings",
    "save_export",
    "save_export_pdf",
    "my_data",
    "save_fhir_export",
    "staff_login",
    "staff_setup_second_factor",
    "staff_confirm_second_factor",
    "staff_logout",
    "staff_sign_in_options",
    "staff_sign_in_cancel",
    "staff_sign_in_at_organisation",
    "staff_caseload",
    "staff_open",
    "send_feedback",
    "discard_feedback",
    "tasks",
    "questionnaire",
    "save_questionnaire_draft",
    "submit_questionnaire",
    "take_back_refused_answers",
    "informatie",
    "article",
    "berichten",
    "mark_messages_read",
    "send_message",
    "discard_message",
    "staff_send_message",
    "set_article_useful",
    "staff_create_tip",
    "staff_articles",
    "staff_save_article",
    "staff_approve_article",
    "staff_withdraw_article",
    "staff_usage_report",
    "staff_save_export",
    "preview_markdown",
];

fn main() {
    let attributes =
        tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(e) = tauri_build::try_build(attributes) {
        eprintln!("tauri build step failed: {e:#}");
        std::process::exit(1);
    }
}
