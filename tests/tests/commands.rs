//! Every app command is named in five places: its `#[tauri::command]` function, the
//! `generate_handler!` list, `build.rs` (which makes Tauri deny what a capability does not
//! name), the window's capability file, and the UI's `api.ts`. Tauri checks none of these
//! against each other at build time; a command missing from one fails only when a person
//! clicks. This test fails instead, and names the command and the place.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

fn read(path: &str) -> String {
    std::fs::read_to_string(cjg_tests::workspace_root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The identifiers after each `marker`, up to the first character that cannot be in one.
fn names_after(text: &str, marker: &str) -> BTreeSet<String> {
    text.match_indices(marker)
        .map(|(i, _)| {
            text[i + marker.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                .collect::<String>()
        })
        .filter(|n| !n.is_empty())
        .collect()
}

/// The comma-separated names between `open` and the next `close`.
fn list_between(text: &str, open: &str, close: char) -> BTreeSet<String> {
    let start = text.find(open).unwrap_or_else(|| panic!("no {open}")) + open.len();
    let end = start + text[start..].find(close).unwrap();
    text[start..end]
        .split(',')
        .map(|n| n.trim().trim_matches('"').to_owned())
        .filter(|n| !n.is_empty())
        .collect()
}

/// The command names of `invoke<T>("name", ...)` calls (not `listen("event")`).
fn invoked(ts: &str) -> BTreeSet<String> {
    ts.split("invoke")
        .skip(1)
        .filter_map(|call| call.split_once("(\"").map(|(_, rest)| rest))
        .map(|rest| rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect::<String>())
        .filter(|n| !n.is_empty())
        .collect()
}

fn commands() -> Vec<(&'static str, BTreeSet<String>)> {
    let shell = read("src-tauri/src/lib.rs");
    let functions: BTreeSet<String> = ["#[tauri::command]\nasync fn ", "#[tauri::command]\nfn "]
        .iter()
        .flat_map(|m| names_after(&shell, m))
        .collect();
    let handler = list_between(&shell, "generate_handler![", ']');
    let build = list_between(&read("src-tauri/build.rs"), "const COMMANDS: &[&str] = &[", ']');
    let capability: BTreeSet<String> = names_after(&read("src-tauri/capabilities/main.json"), "\"allow-")
        .into_iter()
        .map(|n| n.replace('-', "_"))
        .collect();
    let api = invoked(&read("ui/src/lib/api.ts"));
    vec![
        ("#[tauri::command] functions in src-tauri/src/lib.rs", functions),
        ("generate_handler! in src-tauri/src/lib.rs", handler),
        ("COMMANDS in src-tauri/build.rs", build),
        ("src-tauri/capabilities/main.json", capability),
        ("invoke(...) in ui/src/lib/api.ts", api),
    ]
}

#[test]
fn every_command_is_in_all_five_places() {
    let places = commands();
    let all: BTreeSet<&String> = places.iter().flat_map(|(_, names)| names).collect();
    assert!(all.len() > 30, "the parser found the commands: {all:?}");
    let mut missing = Vec::new();
    for name in &all {
        for (place, names) in &places {
            if !names.contains(*name) {
                missing.push(format!("{name} is missing from {place}"));
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn the_parser_sees_a_missing_command() {
    let build = "const COMMANDS: &[&str] = &[\n    \"status\",\n    \"lock\",\n];";
    assert_eq!(
        list_between(build, "const COMMANDS: &[&str] = &[", ']'),
        ["lock", "status"].map(String::from).into()
    );
    let api = r#"status: () => invoke<AppStatus>("status"), lock: () => invoke<void>("lock", {}),
        on: listen<Progress>("sync-progress", f)"#;
    assert_eq!(invoked(api), ["lock", "status"].map(String::from).into());
}
