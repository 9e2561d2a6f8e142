//! Properties of the checks every input crosses (issue 23, part 2): the markdown subset, the
//! sync page check, activation codes, questionnaire answers and the access-log line encoding,
//! over random and hostile input. Each runs in `scripts/test` with proptest's default 256 cases;
//! `PROPTEST_CASES=100000 cargo test -p cjg-core --test input_props` is the longer run (README).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Utc};
use cjg_core::api::{Change, SyncItem, SyncPage, SYNC_PAGE_MAX_ITEMS};
use cjg_core::audit::{AuditAction, AuditEvent, Purpose};
use cjg_core::markdown::{self, Block, Span};
use cjg_core::questionnaire::{self, Agree, Answer, Answers, Completeness, ItemKind};
use cjg_core::validate::{ActivationCode, CODE_ALPHABET};
use proptest::prelude::*;
use uuid::Uuid;

// ---- markdown ------------------------------------------------------------------------------

/// Pieces of markdown, HTML and links a coach (or an attacker) might write.
fn markup() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "# ",
        "## ",
        "### ",
        "#### ",
        "**",
        "*",
        "_",
        "__",
        "- ",
        "* ",
        "1. ",
        "2) ",
        "> ",
        "`",
        "```\n",
        "    ",
        "\n",
        "\n\n",
        "<script>alert(1)</script>",
        "<b>",
        "</b>",
        "<!-- ",
        " -->",
        "[",
        "](javascript:x)",
        "![",
        "](http://x/y.png)",
        "<http://x>",
        "&amp;",
        "&#0;",
        "\\",
        "---\n",
        "|",
        "~~",
        "\t",
        " ",
    ])
    .prop_map(str::to_owned)
}

/// Words of letters only: whatever markup surrounds them, their text must survive.
fn word() -> impl Strategy<Value = String> {
    "[a-zA-Zéëüçşığ]{3,10}"
}

fn text_of(blocks: &[Block]) -> String {
    let spans = |s: &[Span]| s.iter().map(|s| s.text.as_str()).collect::<Vec<_>>().join("");
    blocks
        .iter()
        .map(|b| match b {
            Block::Heading { spans: s, .. } | Block::Paragraph { spans: s } => spans(s),
            Block::List { items, .. } => items.iter().map(|i| spans(i)).collect::<Vec<_>>().join(" "),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

proptest! {
    /// Any text at all: no panic, headings only at level 2 or 3, no empty block or span.
    #[test]
    fn markdown_takes_any_text(source in any::<String>()) {
        for block in markdown::render(&source) {
            match block {
                Block::Heading { level, spans } => {
                    prop_assert!(level == 2 || level == 3);
                    prop_assert!(!spans.is_empty());
                }
                Block::Paragraph { spans } => prop_assert!(!spans.is_empty()),
                Block::List { items, .. } => prop_assert!(!items.is_empty()),
            }
        }
    }

    /// Words mixed with markup, raw HTML and links: every word a coach wrote is still there to
    /// read (as text: nothing becomes HTML), whatever the markup around it did.
    #[test]
    fn markdown_keeps_every_word(parts in prop::collection::vec(prop_oneof![markup(), word()], 0..40)) {
        let source = parts.join(" ");
        let text = text_of(&markdown::render(&source));
        for w in parts.iter().filter(|p| p.chars().all(char::is_alphabetic)) {
            prop_assert!(text.contains(w.as_str()), "{w:?} lost from {source:?}: {text:?}");
        }
    }
}

// ---- the sync page check -------------------------------------------------------------------

fn item(cursor: i64) -> SyncItem {
    SyncItem { cursor, change: Change::EntryDeleted { id: Uuid::nil(), version: 2 } }
}

proptest! {
    /// The check accepts exactly the pages that can be applied in order: at most the maximum
    /// of items, each cursor after the one before (the first after the request's), and a next
    /// cursor not behind the last item.
    #[test]
    fn a_page_is_accepted_only_when_it_moves_forward(
        requested in -5i64..1_000,
        cursors in prop::collection::vec(-5i64..1_200, 0..12),
        next in -5i64..1_300,
        many in prop::bool::weighted(0.05),
    ) {
        let mut items: Vec<SyncItem> = cursors.iter().copied().map(item).collect();
        if many {
            items = (1..=i64::try_from(SYNC_PAGE_MAX_ITEMS).unwrap() + 1).map(|c| item(requested + c)).collect();
        }
        let page = SyncPage { items, next_cursor: next, has_more: false, audit: None };
        let increasing = std::iter::once(requested)
            .chain(page.items.iter().map(|i| i.cursor))
            .collect::<Vec<_>>()
            .windows(2)
            .all(|w| w[1] > w[0]);
        let last = page.items.last().map_or(requested, |i| i.cursor);
        let sane = page.items.len() <= SYNC_PAGE_MAX_ITEMS && increasing && next >= last;
        prop_assert_eq!(page.check(requested).is_ok(), sane);
    }
}

// ---- activation codes ----------------------------------------------------------------------

proptest! {
    /// A code made from any bytes reads back as itself, however it is typed: lower case,
    /// spaces and dashes anywhere.
    #[test]
    fn a_code_reads_back_however_it_is_typed(
        bytes in prop::array::uniform12(any::<u8>()),
        lower in any::<bool>(),
        gaps in prop::collection::vec((0usize..12, prop::sample::select(vec![" ", "-", "  ", "\t"])), 0..6),
    ) {
        let code = ActivationCode::from_random(&bytes);
        let mut typed: Vec<String> = code.canonical().chars().map(String::from).collect();
        for (at, gap) in gaps {
            typed[at].insert_str(0, gap);
        }
        let mut typed = typed.concat();
        if lower {
            typed = typed.to_lowercase();
        }
        prop_assert!(ActivationCode::parse(&code.display()).unwrap() == code);
        prop_assert!(ActivationCode::parse(&typed).unwrap() == code);
    }

    /// Anything else is refused without a panic: a code has exactly 12 symbols of the alphabet.
    #[test]
    fn anything_else_is_not_a_code(input in any::<String>()) {
        let symbols: Vec<char> = input
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let valid = symbols.len() == ActivationCode::LEN
            && symbols.iter().all(|c| c.is_ascii() && CODE_ALPHABET.contains(&(*c as u8)));
        prop_assert_eq!(ActivationCode::parse(&input).is_ok(), valid);
    }
}

// ---- questionnaire answers -----------------------------------------------------------------

/// Answers to a shipped questionnaire: mostly to its own items, with the right kind or not,
/// plus unknown keys, long texts and control characters now and then.
fn answers_for(definition: &questionnaire::Definition) -> impl Strategy<Value = Answers> {
    let mut keys: Vec<String> = definition.items.iter().map(|i| i.key.clone()).collect();
    keys.push("bestaat_niet".into());
    let choices: Vec<String> = definition
        .items
        .iter()
        .flat_map(|i| match &i.kind {
            ItemKind::Choice { options } => options.iter().map(|o| o.value.clone()).collect(),
            _ => Vec::new(),
        })
        .chain(["geen_keuze".to_owned()])
        .collect();
    let answer = prop_oneof![
        prop::sample::select(vec![Agree::Eens, Agree::Oneens, Agree::Nvt]).prop_map(Answer::Agree),
        (0u8..8).prop_map(Answer::Rating),
        prop::sample::select(choices).prop_map(Answer::Choice),
        "[ a-z\n\t\u{0}\u{7}é]{0,40}".prop_map(Answer::Text),
        (0usize..3000).prop_map(|n| Answer::Text("x".repeat(n))),
    ];
    prop::collection::btree_map(prop::sample::select(keys), answer, 0..12)
}

fn definition_and_answers() -> impl Strategy<Value = (questionnaire::Definition, Answers)> {
    prop::sample::select(questionnaire::catalogue()).prop_flat_map(|d| {
        let answers = answers_for(&d);
        (Just(d), answers)
    })
}

proptest! {
    /// What the check accepts, it accepts again unchanged (the server checks what the app
    /// checked); what it refuses, it names by item and never by the text typed.
    #[test]
    fn the_answer_check_is_stable((definition, answers) in definition_and_answers()) {
        for completeness in [Completeness::Draft, Completeness::Submit] {
            match definition.check(&answers, completeness) {
                Ok(kept) => {
                    let again = definition.check(&kept, completeness);
                    prop_assert_eq!(again.as_ref(), Ok(&kept));
                    for key in kept.keys() {
                        prop_assert!(definition.item(key).is_some());
                    }
                }
                Err(e) => {
                    let said = e.to_string();
                    prop_assert!(said.contains(e.item()));
                    for a in answers.values() {
                        if let Answer::Text(t) = a {
                            prop_assert!(t.trim().len() < 3 || !said.contains(t.trim()), "{said}");
                        }
                    }
                }
            }
        }
    }
}

// ---- the access-log line encoding ----------------------------------------------------------

fn any_event() -> impl Strategy<Value = AuditEvent> {
    (
        (any::<u128>(), 1u32..1000, any::<String>(), any::<String>(), 0usize..6, any::<String>()),
        (
            prop::option::of(any::<u128>()),
            0usize..8,
            // Notes as the server writes them: no control characters (the app refuses others,
            // `cjg-crypto`'s `a_note_that_would_hash_like_no_note_is_refused`).
            prop::option::of("[^\\p{Cc}]{0,40}"),
            any::<i32>(),
            any::<String>(),
        ),
    )
        .prop_map(
            |((id, position, name, role, action, object), (object_id, purpose, note, secs, origin))| {
                AuditEvent {
                    id: Uuid::from_u128(id),
                    dossier_id: Uuid::from_u128(2),
                    position,
                    actor_id: Uuid::from_u128(id.rotate_left(7)),
                    actor_name: name,
                    actor_role: role,
                    action: AuditAction::ALL[action],
                    object_type: object,
                    object_id: object_id.map(Uuid::from_u128),
                    purpose: Purpose::ALL[purpose],
                    purpose_note: note,
                    at: DateTime::<Utc>::from_timestamp(1_700_000_000 + i64::from(secs), 0).unwrap(),
                    origin,
                }
            },
        )
}

proptest! {
    /// Two lines that differ in anything the person reads have different bytes under the
    /// hash: a field cannot run into the next, nor an absent note pass for a present one.
    #[test]
    fn different_lines_encode_differently(a in any_event(), b in any_event()) {
        let same_reading = a == b;
        prop_assert_eq!(a.canonical() == b.canonical(), same_reading, "{:?} / {:?}", a, b);
    }

    /// The same line with one text field moved into its neighbour (`ab`+`c` against `a`+`bc`).
    #[test]
    fn a_field_cannot_borrow_from_the_next(e in any_event(), cut in 0usize..8) {
        let joined = format!("{}{}", e.actor_name, e.actor_role);
        let at = joined.char_indices().map(|(i, _)| i).chain([joined.len()]).nth(cut).unwrap_or(joined.len());
        let mut moved = e.clone();
        moved.actor_name = joined[..at].to_owned();
        moved.actor_role = joined[at..].to_owned();
        prop_assert_eq!(moved.canonical() == e.canonical(), moved == e);
    }
}
