//! The Tauri shell: each command is a one-line adapter over `cjg_client::app::AppCore`.
//! No rules live here; keys and PINs never cross back to the webview.

use std::path::PathBuf;

use cjg_client::app::{AppCore, AppStatus, DossierView, EntryDetail};
use cjg_client::{Progress, UiError};
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
    core: State<'_, AppCore>,
    server_url: String,
    code: String,
    pin: String,
    pin_again: String,
) -> Res<()> {
    core.enrol(&server_url, &code, &pin, &pin_again).await.map_err(|e| e.to_ui())
}

#[tauri::command]
async fn unlock(core: State<'_, AppCore>, pin: String) -> Res<()> {
    core.unlock(&pin).await.map_err(|e| e.to_ui())
}

#[tauri::command]
async fn lock(core: State<'_, AppCore>) -> Res<()> {
    core.lock().await;
    Ok(())
}

#[tauri::command]
async fn sync(app: AppHandle, core: State<'_, AppCore>) -> Res<Progress> {
    core.sync(|p| {
        let _ = app.emit("sync-progress", p);
    })
    .await
    .map_err(|e| e.to_ui())
}

#[tauri::command]
async fn dossier(core: State<'_, AppCore>) -> Res<DossierView> {
    core.dossier().await.map_err(|e| e.to_ui())
}

#[tauri::command]
async fn entry(core: State<'_, AppCore>, id: Uuid) -> Res<Option<EntryDetail>> {
    core.entry(id).await.map_err(|e| e.to_ui())
}

/// `CJG_APP_DATA_DIR` overrides the platform's app data directory (tests, the demo script).
fn data_dir(app: &AppHandle) -> tauri::Result<PathBuf> {
    match std::env::var_os("CJG_APP_DATA_DIR") {
        Some(d) => Ok(PathBuf::from(d)),
        None => app.path().app_data_dir(),
    }
}

#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    let result = tauri::Builder::default()
        .setup(|app| {
            let dir = data_dir(app.handle())?;
            let default_server = std::env::var("CJG_SERVER_URL").ok();
            app.manage(AppCore::new(dir, default_server));
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            status,
            check_server,
            enrol,
            unlock,
            lock,
            sync,
            dossier,
            entry
        ])
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("Mijn CJG could not start: {e}");
        std::process::exit(1);
    }
}
