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

/// Whom a Dutch text speaks to, from how the catalogue writes it (see `dutch()` in `nl.ts`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Speaks {
    /// The first text of `r(u, je)`: to a parent or carer.
    U,
    /// The second: to a young person.
    Je,
    /// `forStaff(...)`: read by staff only, "u".
    Staff,
    /// `forYouth(...)`: read by a young person only, "je".
    Youth,
    /// To no one in particular: neither "u" nor "je".
    NoOne,
}

/// The texts of the Dutch catalogue with whom each speaks to; `${...}` parts left out.
fn dutch_texts(source: &str) -> Vec<(Speaks, String)> {
    let start = source.find("export function dutch(").unwrap();
    let body = &source[start..source.find("export const nl = dutch(").unwrap()];
    let body = &body[body.find("return {").unwrap()..];
    let mut texts: Vec<(Speaks, String)> = Vec::new();
    let mut pos = 0;
    let mut previous_end = 0;
    while let Some(i) = body[pos..].find(['"', '`']).map(|i| pos + i) {
        let quote = body[i..].chars().next().unwrap();
        let Some(len) = body[i + 1..].find(quote) else { break };
        let before = body[..i].trim_end();
        let call = before.strip_suffix('(').map(|b| {
            let name_start = b.rfind(|c: char| !(c.is_alphanumeric() || c == '_')).map_or(0, |j| j + 1);
            &b[name_start..]
        });
        let speaks = match call {
            Some("r") => Speaks::U,
            Some("forStaff") => Speaks::Staff,
            Some("forYouth") => Speaks::Youth,
            _ if body[previous_end..i].trim() == ","
                && texts.last().is_some_and(|(s, _)| *s == Speaks::U) =>
            {
                Speaks::Je
            }
            _ => Speaks::NoOne,
        };
        texts.push((speaks, without(&body[i + 1..i + 1 + len], "${", "}")));
        pos = i + 2 + len;
        previous_end = pos;
    }
    texts
}

/// The words that say "u" or "je" to the reader in a text, lowercased.
fn address_words(text: &str) -> (Vec<String>, Vec<String>) {
    let words: Vec<String> =
        text.to_lowercase().split(|c: char| !c.is_alphabetic()).map(str::to_owned).collect();
    let u = words.iter().filter(|w| ["u", "uw", "uzelf"].contains(&w.as_str())).cloned().collect();
    let je = words
        .iter()
        .filter(|w| ["je", "jij", "jou", "jouw", "jezelf"].contains(&w.as_str()))
        .cloned()
        .collect();
    (u, je)
}

/// Parents and carers read "u", young people "je", consistently: a text for families is
/// written in both registers, and no text says the wrong one to its reader.
#[test]
fn the_dutch_catalogue_says_u_to_parents_and_je_to_young_people() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let source = std::fs::read_to_string(root.join("ui/src/lib/i18n/nl.ts")).unwrap();
    let texts = dutch_texts(&source);
    let count = |s: Speaks| texts.iter().filter(|(k, _)| *k == s).count();
    assert!(count(Speaks::U) > 80 && count(Speaks::U) == count(Speaks::Je), "both registers were read");
    let mut problems = Vec::new();
    for (speaks, text) in &texts {
        let (u, je) = address_words(text);
        let wrong = match speaks {
            Speaks::U | Speaks::Staff => je,
            Speaks::Je | Speaks::Youth => u,
            Speaks::NoOne => u.into_iter().chain(je).collect(),
        };
        if !wrong.is_empty() {
            problems.push(format!("{speaks:?} text says {wrong:?}: {text:?}"));
        }
    }
    assert!(
        problems.is_empty(),
        "a text for families goes in r(\"u ...\", \"je ...\"), one for staff in forStaff, one for a young person alone in forYouth:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_register_check_reads_how_a_text_is_written() {
    let source = r#"export function dutch(register: Register) {
  const r = (u: string, je: string): string => (register === "je" ? je : u);
  return {
    a: r("Vul uw pincode in", "Vul je pincode in"),
    b: forStaff(`Waarom opent u ${x}?`),
    c: forYouth("Alleen voor jou"),
    d: "Naar de inhoud",
    e: (n: number) => (n === 1 ? r("U", "Jij") : "Zij"),
  };
}
export const nl = dutch("u");"#;
    let got: Vec<Speaks> = dutch_texts(source).into_iter().map(|(s, _)| s).collect();
    use Speaks::*;
    assert_eq!(got, [U, Je, Staff, Youth, NoOne, U, Je, NoOne]);
    assert_eq!(address_words("Weet u het? Vraag het je coach."), (vec!["u".into()], vec!["je".into()]));
}

/// The Dutch catalogue reads as plain language (B1): short sentences, and none of the words of
/// the people who built the app, in both registers. A new text that breaks this fails here, not
/// in a user's hands.
#[test]
fn the_dutch_catalogue_is_plain_language() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let source = std::fs::read_to_string(root.join("ui/src/lib/i18n/nl.ts")).unwrap();
    let texts: Vec<String> = dutch_texts(&source).into_iter().map(|(_, t)| t).collect();
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
