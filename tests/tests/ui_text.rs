//! Every word the UI shows comes from the catalogues in `ui/src/lib/i18n/` (`nl.ts` and `en.ts`:
//! Dutch and English; the type checker makes both hold the same keys). This test fails on text written
//! straight into a screen's markup or into an attribute a person hears or reads.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Replaces `open ... close` spans (non-nested) with a space.
fn without(text: &str, open: &str, close: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(open) {
        out.push_str(&rest[..i]);
        out.push(' ');
        match rest[i..].find(close) {
            Some(j) => rest = &rest[i + j + close.len()..],
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

/// Removes `{ ... }` expressions, nested ones included.
fn without_expressions(text: &str) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    for ch in text.chars() {
        match ch {
            '{' => depth += 1,
            '}' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    out.push(' ');
                }
            }
            _ if depth == 0 => out.push(ch),
            _ => {}
        }
    }
    out
}

fn has_word(s: &str) -> bool {
    s.chars().filter(|c| c.is_alphabetic()).count() >= 2
}

/// Text a person sees or hears, written literally in a Svelte file's markup.
fn literal_texts(source: &str) -> Vec<String> {
    let markup =
        without(&without(&without(source, "<script", "</script>"), "<style", "</style>"), "<!--", "-->");
    let mut found = Vec::new();
    // Attributes that are read out or shown, with a literal value.
    for attr in ["aria-label=\"", "placeholder=\"", "title=\"", "alt=\"", "aria-description=\""] {
        let mut rest = markup.as_str();
        while let Some(i) = rest.find(attr) {
            let value = &rest[i + attr.len()..];
            let end = value.find('"').unwrap_or(value.len());
            if !value.starts_with('{') && has_word(&value[..end]) {
                found.push(format!("{attr}{}\"", &value[..end]));
            }
            rest = &value[end..];
        }
    }
    // Text between tags, once expressions and tags are gone.
    let text = without(&without_expressions(&markup), "<", ">");
    for piece in text.split_whitespace().filter(|w| has_word(w)) {
        found.push(piece.to_owned());
    }
    found
}

#[test]
fn no_ui_text_outside_the_catalogues() {
    let ui = cjg_tests::workspace_root().join("ui/src");
    let files: Vec<PathBuf> =
        walk(&ui).into_iter().filter(|p| p.extension().is_some_and(|e| e == "svelte")).collect();
    assert!(files.len() > 10, "found the screens");
    let mut problems = Vec::new();
    for f in &files {
        let source = std::fs::read_to_string(f).unwrap();
        for t in literal_texts(&source) {
            problems.push(format!("{}: {t}", f.strip_prefix(&ui).unwrap_or(f).display()));
        }
    }
    assert!(
        problems.is_empty(),
        "text written into the markup; put it in ui/src/lib/i18n/nl.ts and en.ts:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_check_finds_literal_text() {
    let screen = r#"<script>let x = "in code is fine";</script>
        <p>{t().hello}</p><button aria-label="Sluiten">×</button><p>Hallo {name}</p>
        <input placeholder={t().hint} /><!-- een opmerking --><style>p { color: red; }</style>"#;
    assert_eq!(literal_texts(screen), ["aria-label=\"Sluiten\"", "Hallo"]);
}

/// The Dutch catalogue reads as plain language (B1): short sentences, and none of the words of
/// the people who built the app. A new text that breaks this fails here, not in a user's hands.
#[test]
fn the_dutch_catalogue_is_plain_language() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let source = std::fs::read_to_string(root.join("ui/src/lib/i18n/nl.ts")).unwrap();
    let nl = &source[source.find("export const nl = {").unwrap()..source.find("export type Dict").unwrap()];
    let mut texts = Vec::new();
    let mut rest = nl;
    while let Some(i) = rest.find(['"', '`']) {
        let quote = rest[i..].chars().next().unwrap();
        let Some(len) = rest[i + 1..].find(quote) else { break };
        texts.push(without(&rest[i + 1..i + 1 + len], "${", "}"));
        rest = &rest[i + 2 + len..];
    }
    assert!(texts.len() > 300, "the catalogue was read ({} texts)", texts.len());
    const JARGON: [&str; 16] = [
        "synchroniseren",
        "synchronisatie",
        "authenticatie",
        "token",
        "cursor",
        "audit",
        "hash",
        "encryptie",
        "idempotent",
        "functionaris",
        "database",
        "sessie",
        "configuratie",
        "parameter",
        "validatie",
        "error",
    ];
    let mut problems = Vec::new();
    for text in &texts {
        for sentence in text.split_inclusive(['.', '!', '?']) {
            let words = sentence.split_whitespace().filter(|w| has_word(w)).count();
            if words > 20 {
                problems.push(format!("{words} words in one sentence: {sentence:?}"));
            }
        }
        let lower = text.to_lowercase();
        for word in lower.split(|c: char| !c.is_alphabetic()) {
            if JARGON.contains(&word) {
                problems.push(format!("jargon {word:?} in {text:?}"));
            }
        }
    }
    assert!(problems.is_empty(), "not plain Dutch:\n{}", problems.join("\n"));
}
