//! One window with one line of text: nothing of Mijn CJG.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    if let Err(e) = tauri::Builder::default().run(tauri::generate_context!()) {
        eprintln!("minimal window: {e}");
        std::process::exit(1);
    }
}
