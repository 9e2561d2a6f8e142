//! The markdown subset coaches may use, parsed into a tree the UI builds with DOM nodes and
//! `textContent`. Nothing here is ever HTML: raw HTML in the source comes out as plain text,
//! links lose their target, images their source. That is what keeps a coach's (or an attacker's)
//! text from reaching `invoke()` in the webview.

use pulldown_cmark::{Event, HeadingLevel, Parser, Tag, TagEnd};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block {
    /// Level 2 or 3 only: level 1 is the entry's title.
    Heading {
        level: u8,
        spans: Vec<Span>,
    },
    Paragraph {
        spans: Vec<Span>,
    },
    List {
        ordered: bool,
        items: Vec<Vec<Span>>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Span {
    pub text: String,
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub strong: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub emphasis: bool,
}

#[derive(Default)]
struct Builder {
    blocks: Vec<Block>,
    spans: Vec<Span>,
    strong: u32,
    emphasis: u32,
    heading: Option<u8>,
    list: Option<(bool, Vec<Vec<Span>>)>,
    /// Lists open inside each other; only the outermost one becomes a block.
    list_depth: u32,
}

impl Builder {
    fn text(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        let (strong, emphasis) = (self.strong > 0, self.emphasis > 0);
        match self.spans.last_mut() {
            Some(last) if last.strong == strong && last.emphasis == emphasis => last.text.push_str(text),
            _ => self.spans.push(Span { text: text.to_owned(), strong, emphasis }),
        }
    }

    fn take_spans(&mut self) -> Vec<Span> {
        std::mem::take(&mut self.spans)
    }

    fn end_paragraph(&mut self) {
        let spans = self.take_spans();
        if spans.is_empty() {
            return;
        }
        match &mut self.list {
            // A "loose" list wraps items in paragraphs; keep them as the item's text.
            Some((_, items)) => match items.last_mut() {
                Some(item) if !item.is_empty() => {
                    item.push(Span { text: " ".into(), strong: false, emphasis: false });
                    item.extend(spans);
                }
                Some(item) => item.extend(spans),
                None => items.push(spans),
            },
            None => self.blocks.push(Block::Paragraph { spans }),
        }
    }
}

pub fn render(source: &str) -> Vec<Block> {
    let mut b = Builder::default();
    for event in Parser::new(source) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                b.end_paragraph();
                b.heading = Some(if level <= HeadingLevel::H2 { 2 } else { 3 });
            }
            Event::End(TagEnd::Heading(_)) => {
                let spans = b.take_spans();
                let level = b.heading.take().unwrap_or(3);
                if !spans.is_empty() {
                    b.blocks.push(Block::Heading { level, spans });
                }
            }
            Event::Start(Tag::List(first)) => {
                b.end_paragraph();
                // Nested lists are flattened into the outer one: the subset has one level.
                if b.list_depth == 0 {
                    b.list = Some((first.is_some(), Vec::new()));
                }
                b.list_depth += 1;
            }
            Event::End(TagEnd::List(_)) => {
                b.list_depth = b.list_depth.saturating_sub(1);
                if b.list_depth == 0 {
                    if let Some((ordered, mut items)) = b.list.take() {
                        items.retain(|item| !item.is_empty());
                        if !items.is_empty() {
                            b.blocks.push(Block::List { ordered, items });
                        }
                    }
                }
            }
            Event::Start(Tag::Item) => {
                if let Some((_, items)) = &mut b.list {
                    items.push(Vec::new());
                }
            }
            Event::End(TagEnd::Item) => {
                let spans = b.take_spans();
                if let Some((_, items)) = &mut b.list {
                    if let Some(item) = items.last_mut() {
                        item.extend(spans);
                    }
                }
            }
            Event::End(TagEnd::Paragraph)
            | Event::End(TagEnd::BlockQuote(_))
            | Event::End(TagEnd::CodeBlock)
                if b.heading.is_none() =>
            {
                b.end_paragraph();
            }
            Event::Start(Tag::Strong) => b.strong += 1,
            Event::End(TagEnd::Strong) => b.strong = b.strong.saturating_sub(1),
            Event::Start(Tag::Emphasis) => b.emphasis += 1,
            Event::End(TagEnd::Emphasis) => b.emphasis = b.emphasis.saturating_sub(1),
            Event::Text(t) | Event::Code(t) | Event::Html(t) | Event::InlineHtml(t) => b.text(&t),
            Event::SoftBreak | Event::HardBreak => b.text(" "),
            _ => {}
        }
    }
    b.end_paragraph();
    b.blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(text: &str) -> Span {
        Span { text: text.into(), strong: false, emphasis: false }
    }

    #[test]
    fn paragraphs_headings_lists_and_emphasis() {
        let blocks = render("## Doelen\n\nWe willen **rust** in huis.\n\n- Vaste bedtijd\n- Samen eten\n");
        assert_eq!(
            blocks,
            vec![
                Block::Heading { level: 2, spans: vec![plain("Doelen")] },
                Block::Paragraph {
                    spans: vec![
                        plain("We willen "),
                        Span { text: "rust".into(), strong: true, emphasis: false },
                        plain(" in huis."),
                    ]
                },
                Block::List {
                    ordered: false,
                    items: vec![vec![plain("Vaste bedtijd")], vec![plain("Samen eten")]]
                },
            ]
        );
    }

    #[test]
    fn html_stays_text_and_links_lose_their_target() {
        let blocks = render("<img src=x onerror=alert(1)>\n\nZie [hier](javascript:alert(1)) <b>nu</b>");
        let all: String = serde_json::to_string(&blocks).expect("serialises");
        assert!(all.contains("<img src=x onerror=alert(1)>"), "html kept as literal text: {all}");
        assert!(!all.contains("javascript:"), "link target dropped: {all}");
        assert!(all.contains("hier"));
    }

    /// Found by `tests/input_props.rs`: the end of a nested list closed the outer one, and
    /// the text of the outer list's later items was dropped.
    #[test]
    fn text_after_a_nested_list_is_kept() {
        let text = |blocks: Vec<Block>| serde_json::to_string(&blocks).expect("serialises");
        for (source, words) in [
            ("* een\n  - twee\n* drie\n", &["een", "twee", "drie"][..]),
            ("#  \n *  -  ```\n *  vier", &["vier"][..]),
        ] {
            let all = text(render(source));
            for w in words {
                assert!(all.contains(w), "{w} lost from {source:?}: {all}");
            }
        }
        // An item with nothing in it is no item.
        assert_eq!(
            render("* - ```\n* vijf"),
            vec![Block::List { ordered: false, items: vec![vec![plain("vijf")]] }]
        );
    }

    #[test]
    fn empty_and_odd_input_never_panics() {
        assert!(render("").is_empty());
        for s in ["#", "- ", "**", "1.\n2.", "> quote\n>> deeper", "```\ncode\n```", "* a\n  * b\n* c"] {
            let _ = render(s);
        }
    }

    /// A corpus of hostile input: whatever goes in, what comes out is text in blocks; no link
    /// or image target survives, and nothing is ever marked as markup. (The UI renders blocks
    /// with escaped text only; `tests/tests/informatie.rs` checks it has no raw-HTML path.)
    #[test]
    fn hostile_markdown_comes_out_as_plain_text() {
        let targets = ["javascript:", "data:text", "http://evil.example", "vbscript:", "file:///"];
        let corpus = [
            "[klik](javascript:alert(1))",
            "[klik][ref]\n\n[ref]: javascript:alert(1)",
            "<javascript:alert(1)>",
            "![plaatje](http://evil.example/x.png)",
            "![x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
            "<a href=\"vbscript:msgbox(1)\">hier</a>",
            "<iframe src=\"file:///etc/passwd\"></iframe>",
            "<svg onload=alert(1)>",
            "<!-- <script>alert(1)</script> -->",
            "&lt;script&gt;alert(1)&lt;/script&gt;",
            "<scr<script>ipt>alert(1)</script>",
            "```html\n<script>alert(1)</script>\n```",
            "<style>body{display:none}</style>",
            "<details open ontoggle=alert(1)>",
        ];
        for input in corpus {
            let out = serde_json::to_string(&render(input)).expect("serialises");
            for t in targets {
                // A target may only survive as words the author typed outside a link or image.
                if !input.contains(&format!("<{t}")) && !input.starts_with('<') && !input.starts_with('`') {
                    assert!(!out.contains(t), "{input:?} kept a target: {out}");
                }
            }
        }
        // Degenerate nesting and sizes stay cheap and bounded.
        let deep = format!("{}x", "> ".repeat(5_000));
        let _ = render(&deep);
        let emphasis = "*a **b ".repeat(2_000);
        let _ = render(&emphasis);
        let ticks = "`".repeat(10_000);
        let _ = render(&ticks);
    }
}
