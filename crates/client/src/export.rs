//! The person's copy of their data as a file (right of access): a plain PDF of already-worded
//! items. The wording comes from the UI's language catalogue; this module only lays it out.

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use serde::Deserialize;
use ts_rs::TS;

use crate::{ClientError, Result};

#[derive(Debug, Clone, Deserialize, TS)]
pub struct PdfDoc {
    pub title: String,
    pub subtitle: String,
    pub items: Vec<PdfItem>,
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct PdfItem {
    pub heading: String,
    pub lines: Vec<String>,
}

const MAX_ITEMS: usize = 200_000;
const MAX_TEXT: usize = 4_000;

const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 56.0;
const BODY: f32 = 10.0;
const HEAD: f32 = 11.0;

/// Text in the PDF's WinAnsi encoding (the standard fonts' own): Latin-1 as is, the usual
/// typographic marks mapped, anything else a question mark.
fn win_ansi(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| match c {
            '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{ff}' => u8::try_from(u32::from(c)).unwrap_or(b'?'),
            '€' => 0x80,
            '…' => 0x85,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            _ => b'?',
        })
        .collect()
}

/// Wraps at spaces to lines that fit the text width (Helvetica averages about half an em).
fn wrap(text: &str, size: f32) -> Vec<String> {
    let per_line = ((PAGE_W - 2.0 * MARGIN) / (0.52 * size)) as usize;
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > per_line {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

struct Pages {
    contents: Vec<Content>,
    y: f32,
}

impl Pages {
    fn new() -> Self {
        let mut p = Self { contents: Vec::new(), y: 0.0 };
        p.new_page();
        p
    }

    fn new_page(&mut self) {
        self.contents.push(Content::new());
        self.y = PAGE_H - MARGIN;
    }

    fn line(&mut self, font: Name<'_>, size: f32, text: &str) {
        for l in wrap(text, size) {
            if self.y < MARGIN + size {
                self.new_page();
            }
            self.y -= size * 1.35;
            if let Some(c) = self.contents.last_mut() {
                c.begin_text();
                c.set_font(font, size);
                c.next_line(MARGIN, self.y);
                c.show(Str(&win_ansi(&l)));
                c.end_text();
            }
        }
    }
}

/// Lays the document out on A4 pages.
pub fn pdf(doc: &PdfDoc) -> Result<Vec<u8>> {
    let too_long = |s: &str| s.len() > MAX_TEXT;
    if doc.items.len() > MAX_ITEMS
        || too_long(&doc.title)
        || too_long(&doc.subtitle)
        || doc
            .items
            .iter()
            .any(|i| too_long(&i.heading) || i.lines.len() > 20 || i.lines.iter().any(|l| too_long(l)))
    {
        return Err(ClientError::Validation(cjg_core::validate::ValidationError::Invalid {
            field: "export",
            reason: "more than an export of this app holds",
        }));
    }
    let (regular, bold) = (Name(b"F1"), Name(b"F2"));
    let mut pages = Pages::new();
    pages.line(bold, 18.0, &doc.title);
    pages.line(regular, BODY, &doc.subtitle);
    pages.y -= BODY;
    for item in &doc.items {
        // Keep a heading with at least its first line.
        if pages.y < MARGIN + 3.0 * HEAD {
            pages.new_page();
        }
        pages.line(bold, HEAD, &item.heading);
        for l in &item.lines {
            pages.line(regular, BODY, l);
        }
        pages.y -= BODY * 0.6;
    }

    let mut pdf = Pdf::new();
    let (catalog, tree, font_regular, font_bold, info) =
        (Ref::new(1), Ref::new(2), Ref::new(3), Ref::new(4), Ref::new(5));
    let n = i32::try_from(pages.contents.len()).unwrap_or(i32::MAX);
    let page_ids: Vec<Ref> = (0..n).map(|i| Ref::new(10 + 2 * i)).collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids(page_ids.iter().copied()).count(n);
    pdf.document_info(info).title(TextStr(&doc.title)).producer(TextStr("Mijn CJG"));
    for (i, content) in pages.contents.into_iter().enumerate() {
        let page_id = page_ids[i];
        let content_id = Ref::new(page_id.get() + 1);
        let mut page = pdf.page(page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H));
        page.parent(tree);
        page.contents(content_id);
        let mut resources = page.resources();
        let mut fonts = resources.fonts();
        fonts.pair(regular, font_regular);
        fonts.pair(bold, font_bold);
        fonts.finish();
        resources.finish();
        page.finish();
        pdf.stream(content_id, &content.finish());
    }
    for (id, base) in [(font_regular, Name(b"Helvetica")), (font_bold, Name(b"Helvetica-Bold"))] {
        pdf.type1_font(id).base_font(base).encoding_predefined(Name(b"WinAnsiEncoding"));
    }
    Ok(pdf.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(n: usize) -> PdfDoc {
        PdfDoc {
            title: "Inzage: wie keek in uw dossier".into(),
            subtitle: "Gemaakt op 22 november 2026".into(),
            items: (0..n)
                .map(|i| PdfItem {
                    heading: format!("22 november 2026 om 10:{:02}, Fleur Demo (CJG-coach)", i % 60),
                    lines: vec![
                        "bekeek “Ons gezinsplan”.".into(),
                        "Waarom: een gesprek voorbereiden: om het gesprek van dinsdag voor te bereiden, \
                         en dit is een lange toelichting die over meer dan één regel loopt zodat het \
                         afbreken van regels ook getest wordt."
                            .into(),
                    ],
                })
                .collect(),
        }
    }

    #[test]
    fn a_log_becomes_a_pdf_with_its_text_and_enough_pages() {
        let bytes = pdf(&doc(3)).expect("pdf");
        assert!(bytes.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("Fleur Demo"));
        assert!(text.contains("/Count 1"));
        // Text with marks outside ASCII goes in as WinAnsi bytes (hex-written), never UTF-8.
        assert!(!text.contains("“"), "no UTF-8 in the content stream");
        let many = pdf(&doc(200)).expect("pdf");
        let pages = String::from_utf8_lossy(&many).matches("/Type /Page\n").count()
            + String::from_utf8_lossy(&many).matches("/Type /Page\r").count()
            + String::from_utf8_lossy(&many).matches("/Type /Page ").count();
        assert!(pages > 5, "200 items span several pages ({pages})");
    }

    #[test]
    fn wrapping_keeps_every_word_and_oversized_documents_are_refused() {
        let text = "een twee drie ".repeat(60);
        let lines = wrap(&text, BODY);
        assert!(lines.len() > 1);
        assert_eq!(lines.join(" ").split_whitespace().count(), 180);
        let mut big = doc(1);
        big.items[0].heading = "x".repeat(MAX_TEXT + 1);
        assert_eq!(pdf(&big).expect_err("too big").code(), "invalid_input");
        assert_eq!(win_ansi("Ruzië — €"), vec![b'R', b'u', b'z', b'i', 0xeb, b' ', 0x97, b' ', 0x80]);
    }
}
