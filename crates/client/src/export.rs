//! The person's copy of their data as a file (right of access): a plain PDF of already-worded
//! items, in an embedded font that holds every script the app speaks, and the Inzage log as
//! CSV. The wording comes from the UI's language catalogue; this module only lays it out.

use krilla::geom::Point;
use krilla::page::PageSettings;
use krilla::text::{Font, GlyphId, KrillaGlyph};
use krilla::{metadata::Metadata, Document};
use serde::Deserialize;
use ts_rs::TS;
use unicode_bidi::{BidiInfo, Level};

use crate::{ClientError, Result};

#[derive(Debug, Clone, Deserialize, TS)]
pub struct PdfDoc {
    /// The language the items are worded in (BCP 47: `nl`, `ar`, …): the document's language
    /// for screen readers, and for a right-to-left language the direction of every line.
    #[serde(default = "dutch")]
    pub lang: String,
    pub title: String,
    pub subtitle: String,
    pub items: Vec<PdfItem>,
}

fn dutch() -> String {
    "nl".into()
}

#[derive(Debug, Clone, Deserialize, TS)]
pub struct PdfItem {
    pub heading: String,
    pub lines: Vec<String>,
}

const MAX_ITEMS: usize = 200_000;
/// The widest export: the usage report has 22 columns.
const MAX_COLUMNS: usize = 40;
const MAX_TEXT: usize = 4_000;

const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 56.0;
const BODY: f32 = 10.0;
const HEAD: f32 = 11.0;
const TITLE: f32 = 18.0;
const TEXT_W: f32 = PAGE_W - 2.0 * MARGIN;

// One font for every language of the app (Latin, Cyrillic, Arabic): a name in another script
// inside a sentence needs no fallback. See fonts/README.md for how the subset is made.
static REGULAR: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

/// A font as the PDF embeds it (subset to the glyphs used) and as the shaper reads it.
struct Face {
    pdf: Font,
    shaper: rustybuzz::Face<'static>,
}

impl Face {
    fn load(data: &'static [u8]) -> Result<Self> {
        let broken = || ClientError::Export("the export font cannot be read");
        Ok(Self {
            pdf: Font::new(data.into(), 0).ok_or_else(broken)?,
            shaper: rustybuzz::Face::from_slice(data, 0).ok_or_else(broken)?,
        })
    }

    fn em(&self) -> f32 {
        self.shaper.units_per_em() as f32
    }

    /// The width of `text` at `size` from the glyphs' advances, without shaping: good enough
    /// to decide where a line breaks (joining forms and kerning change it by a few percent).
    fn width(&self, text: &str, size: f32) -> f32 {
        let units: u32 = text
            .chars()
            .map(|c| {
                let glyph = self.shaper.glyph_index(c).unwrap_or_default();
                u32::from(self.shaper.glyph_hor_advance(glyph).unwrap_or(0))
            })
            .sum();
        units as f32 * size / self.em()
    }

    /// The glyphs of one run of a single direction, in the order they are drawn. Each glyph
    /// knows the characters it stands for, so text copied or extracted from the PDF is the
    /// text that went in (an Arabic joining form gives back its letter).
    fn shape(&self, text: &str, rtl: bool) -> (Vec<KrillaGlyph>, f32) {
        let mut buffer = rustybuzz::UnicodeBuffer::new();
        buffer.push_str(text);
        buffer.guess_segment_properties();
        buffer.set_direction(if rtl {
            rustybuzz::Direction::RightToLeft
        } else {
            rustybuzz::Direction::LeftToRight
        });
        let shaped = rustybuzz::shape(&self.shaper, &[], buffer);
        let mut starts: Vec<usize> = shaped.glyph_infos().iter().map(|g| g.cluster as usize).collect();
        starts.sort_unstable();
        starts.dedup();
        let em = self.em();
        let mut advance = 0.0;
        let glyphs = shaped
            .glyph_infos()
            .iter()
            .zip(shaped.glyph_positions())
            .map(|(info, pos)| {
                let start = info.cluster as usize;
                let end = starts.get(starts.partition_point(|c| *c <= start)).copied().unwrap_or(text.len());
                advance += pos.x_advance as f32 / em;
                KrillaGlyph::new(
                    GlyphId::new(info.glyph_id),
                    pos.x_advance as f32 / em,
                    pos.x_offset as f32 / em,
                    pos.y_offset as f32 / em,
                    pos.y_advance as f32 / em,
                    start..end,
                    None,
                )
            })
            .collect();
        (glyphs, advance)
    }
}

struct Fonts {
    regular: Face,
    bold: Face,
}

fn fonts() -> Result<&'static Fonts> {
    static FONTS: std::sync::OnceLock<Option<Fonts>> = std::sync::OnceLock::new();
    FONTS
        .get_or_init(|| Some(Fonts { regular: Face::load(REGULAR).ok()?, bold: Face::load(BOLD).ok()? }))
        .as_ref()
        .ok_or(ClientError::Export("the export font cannot be read"))
}

/// Breaks `text` at spaces into lines no wider than the text area; a word wider than a whole
/// line (a long link) is cut where it must.
fn wrap(face: &Face, text: &str, size: f32) -> Vec<String> {
    let space = face.width(" ", size);
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut width = 0.0;
    for word in text.split_whitespace() {
        let mut word = word;
        let mut w = face.width(word, size);
        if !line.is_empty() && width + space + w > TEXT_W {
            lines.push(std::mem::take(&mut line));
            width = 0.0;
        }
        while line.is_empty() && w > TEXT_W {
            let mut cut = 0;
            let mut cut_w = 0.0;
            for (i, c) in word.char_indices() {
                let cw = face.width(&word[i..i + c.len_utf8()], size);
                if cut > 0 && cut_w + cw > TEXT_W {
                    break;
                }
                cut = i + c.len_utf8();
                cut_w += cw;
            }
            lines.push(word[..cut].to_owned());
            word = &word[cut..];
            w = face.width(word, size);
        }
        if word.is_empty() {
            continue;
        }
        if !line.is_empty() {
            line.push(' ');
            width += space;
        }
        line.push_str(word);
        width += w;
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// One line of text as it goes on a page: its baseline from the top and its face.
struct Line {
    y: f32,
    bold: bool,
    size: f32,
    text: String,
}

struct Pages<'f> {
    fonts: &'f Fonts,
    pages: Vec<Vec<Line>>,
    y: f32,
}

impl<'f> Pages<'f> {
    fn new(fonts: &'f Fonts) -> Self {
        Self { fonts, pages: vec![Vec::new()], y: MARGIN }
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = MARGIN;
    }

    fn line(&mut self, bold: bool, size: f32, text: &str) {
        let face = if bold { &self.fonts.bold } else { &self.fonts.regular };
        for text in wrap(face, text, size) {
            if self.y + size * 1.35 > PAGE_H - MARGIN {
                self.new_page();
            }
            self.y += size * 1.35;
            if let Some(page) = self.pages.last_mut() {
                page.push(Line { y: self.y, bold, size, text });
            }
        }
    }
}

/// Draws one line: its runs in the order the Unicode bidirectional algorithm puts them on
/// screen, each shaped in its own direction; a right-to-left document's lines end at the
/// right margin.
fn draw_line(surface: &mut krilla::surface::Surface<'_>, fonts: &Fonts, line: &Line, rtl: bool) {
    let face = if line.bold { &fonts.bold } else { &fonts.regular };
    let bidi = BidiInfo::new(&line.text, Some(if rtl { Level::rtl() } else { Level::ltr() }));
    let mut runs = Vec::new();
    let mut width = 0.0;
    for para in &bidi.paragraphs {
        let (levels, visual) = bidi.visual_runs(para, para.range.clone());
        for run in visual {
            let run_rtl = levels.get(run.start).is_some_and(|l| l.is_rtl());
            let text = &line.text[run];
            let (glyphs, advance) = face.shape(text, run_rtl);
            width += advance * line.size;
            runs.push((text, glyphs, advance * line.size));
        }
    }
    let mut x = if rtl { PAGE_W - MARGIN - width } else { MARGIN };
    for (text, glyphs, advance) in runs {
        surface.draw_glyphs(Point::from_xy(x, line.y), &glyphs, face.pdf.clone(), text, line.size, false);
        x += advance;
    }
}

/// Rows as a spreadsheet opens them in the Netherlands: semicolons, a byte-order mark so the
/// accents survive, CRLF. A cell that starts like a formula gets a quote first, so opening the
/// file never runs what a name or a note says.
pub fn csv(rows: &[Vec<String>]) -> Result<Vec<u8>> {
    let refuse = || {
        ClientError::Validation(cjg_core::validate::ValidationError::Invalid {
            field: "export",
            reason: "more than an export of this app holds",
        })
    };
    if rows.len() > MAX_ITEMS + 1
        || rows.iter().any(|r| r.len() > MAX_COLUMNS || r.iter().any(|c| c.len() > MAX_TEXT))
    {
        return Err(refuse());
    }
    let mut out = csv::WriterBuilder::new()
        .delimiter(b';')
        .terminator(csv::Terminator::CRLF)
        .flexible(false)
        .from_writer(b"\xef\xbb\xbf".to_vec());
    for row in rows {
        let cells = row.iter().map(|c| {
            if c.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                format!("'{c}")
            } else {
                c.clone()
            }
        });
        out.write_record(cells).map_err(|_| refuse())?;
    }
    out.into_inner().map_err(|_| ClientError::Export("the CSV could not be written"))
}

fn right_to_left(lang: &str) -> bool {
    let primary = lang.split(['-', '_']).next().unwrap_or_default().to_ascii_lowercase();
    matches!(primary.as_str(), "ar" | "fa" | "he" | "ur")
}

/// Lays the document out on A4 pages, with the text in an embedded font (subset) so every
/// name and language comes out as it went in, and can be searched, copied and read aloud.
pub fn pdf(doc: &PdfDoc) -> Result<Vec<u8>> {
    let too_long = |s: &str| s.len() > MAX_TEXT;
    let lang_ok = !doc.lang.is_empty()
        && doc.lang.len() <= 35
        && doc.lang.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if doc.items.len() > MAX_ITEMS
        || !lang_ok
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
    let fonts = fonts()?;
    let mut pages = Pages::new(fonts);
    pages.line(true, TITLE, &doc.title);
    pages.line(false, BODY, &doc.subtitle);
    pages.y += BODY;
    for item in &doc.items {
        // Keep a heading with at least its first line.
        if pages.y + 3.0 * HEAD > PAGE_H - MARGIN {
            pages.new_page();
        }
        pages.line(true, HEAD, &item.heading);
        for l in &item.lines {
            pages.line(false, BODY, l);
        }
        pages.y += BODY * 0.6;
    }

    let rtl = right_to_left(&doc.lang);
    let mut document = Document::new();
    document.set_metadata(
        Metadata::new().title(doc.title.clone()).language(doc.lang.clone()).producer("Mijn CJG".into()),
    );
    let settings = PageSettings::from_wh(PAGE_W, PAGE_H).ok_or(ClientError::Export("the page size"))?;
    for lines in &pages.pages {
        let mut page = document.start_page_with(settings.clone());
        let mut surface = page.surface();
        for line in lines {
            draw_line(&mut surface, fonts, line, rtl);
        }
        surface.finish();
        page.finish();
    }
    document.finish().map_err(|e| {
        // The variant only: its payload can hold the font or the document's own data.
        let kind = match e {
            krilla::error::KrillaError::Font(..) => "font",
            krilla::error::KrillaError::Limit(_) => "limit",
            _ => "other",
        };
        tracing::warn!(kind, "the PDF could not be made");
        ClientError::Export("the PDF could not be written")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(n: usize) -> PdfDoc {
        PdfDoc {
            lang: "nl".into(),
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

    /// pdftotext ends every page with a form feed.
    fn page_count(bytes: &[u8]) -> usize {
        extract(bytes).matches('\u{c}').count()
    }

    #[test]
    fn a_log_becomes_a_pdf_with_an_embedded_font_and_enough_pages() {
        let bytes = pdf(&doc(3)).expect("pdf");
        assert!(bytes.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("/FontFile2"), "the font travels with the file");
        assert!(text.contains("/ToUnicode"), "text can be copied and searched");
        assert!(!text.contains("Helvetica"));
        assert_eq!(page_count(&bytes), 1);
        assert!(page_count(&pdf(&doc(200)).expect("pdf")) > 5, "200 items span several pages");
    }

    #[test]
    fn wrapping_keeps_every_word_cuts_what_is_too_wide_and_oversized_documents_are_refused() {
        let regular = &fonts().expect("fonts").regular;
        let text = "een twee drie ".repeat(60);
        let lines = wrap(regular, &text, BODY);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| regular.width(l, BODY) <= TEXT_W));
        assert_eq!(lines.join(" ").split_whitespace().count(), 180);
        let link = format!("https://cjg.example/{}", "a".repeat(300));
        let cut = wrap(regular, &link, BODY);
        assert!(cut.len() > 1 && cut.concat() == link);
        let mut big = doc(1);
        big.items[0].heading = "x".repeat(MAX_TEXT + 1);
        assert_eq!(pdf(&big).expect_err("too big").code(), "invalid_input");
        let mut odd = doc(1);
        odd.lang = "nl\"/><".into();
        assert_eq!(pdf(&odd).expect_err("odd language").code(), "invalid_input");
    }

    /// The sentences of each language the app speaks, with names from the families of the
    /// region, as the issue found them broken ("Ay?e Y?lmaz").
    const SAMPLES: [(&str, &str); 5] = [
        ("nl", "Fleur Demo bekeek het verslag van Ruzië en één afspraak."),
        ("tr", "Ayşe Yılmaz ile görüşme notları okundu; Çağrı ve Gülşen de katıldı."),
        ("pl", "Łucja Wiśniewska przeczytała raport źródłowy; Żaneta też."),
        ("uk", "Оксана Шевченко переглянула звіт про зустріч у Гарлемі."),
        ("ar", "قرأت فاطمة تقرير المحادثة مع Fleur Demo في هارلم."),
    ];

    fn extract(bytes: &[u8]) -> String {
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("export.pdf");
        std::fs::write(&file, bytes).expect("write");
        let out = std::process::Command::new("pdftotext")
            .args(["-enc", "UTF-8"])
            .arg(&file)
            .arg("-")
            .output()
            .expect("pdftotext (Debian: poppler-utils; scripts/setup installs it)");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("utf-8")
    }

    /// The letters in their reading order. pdftotext marks right-to-left runs with Unicode's
    /// embedding controls and guesses the spaces around a run from the gaps, so both go.
    fn letters(s: &str) -> String {
        s.chars().filter(|c| !c.is_whitespace() && !('\u{202a}'..='\u{202e}').contains(c)).collect()
    }

    #[test]
    fn every_language_and_name_comes_back_out_of_the_pdf_intact() {
        for (lang, sentence) in SAMPLES {
            let doc = PdfDoc {
                lang: lang.into(),
                title: sentence.into(),
                subtitle: String::new(),
                items: vec![PdfItem { heading: sentence.into(), lines: vec![sentence.repeat(3)] }],
            };
            let text = extract(&pdf(&doc).expect("pdf"));
            assert!(letters(&text).contains(&letters(sentence)), "{lang}: {sentence:?} not in {text:?}");
            assert_eq!(
                letters(&text).matches(&letters(sentence)).count(),
                5,
                "{lang}: title, heading, 3 in the line"
            );
            for word in sentence.split_whitespace() {
                assert!(text.contains(word.trim_end_matches('.')), "{lang}: {word:?} whole in {text:?}");
            }
            assert!(!text.contains('?'), "{lang}: no character lost in {text:?}");
        }
    }

    #[test]
    fn arabic_lines_end_at_the_right_margin_and_a_dutch_name_stays_readable() {
        let fonts = fonts().expect("fonts");
        let line = Line { y: 100.0, bold: false, size: BODY, text: SAMPLES[4].1.into() };
        let bidi = BidiInfo::new(&line.text, Some(Level::rtl()));
        let para = &bidi.paragraphs[0];
        let (levels, runs) = bidi.visual_runs(para, para.range.clone());
        // Drawn from the left: the sentence's end first, the Dutch name in its own order.
        let texts: Vec<&str> = runs.iter().map(|r| line.text[r.clone()].trim()).collect();
        assert!(texts.contains(&"Fleur Demo"), "{texts:?}");
        let name = runs.iter().find(|r| line.text[(*r).clone()].contains("Fleur")).expect("name run");
        assert!(!levels[name.start].is_rtl());
        let (_, advance) = fonts.regular.shape(&line.text, true);
        assert!(advance > 0.0 && advance * BODY < TEXT_W);
        assert!(
            right_to_left("ar") && right_to_left("AR-ma") && !right_to_left("nl") && !right_to_left("uk")
        );
    }

    #[test]
    fn csv_rows_round_trip_with_semicolons_quotes_and_no_formulas() {
        let rows = vec![
            vec!["Wanneer".into(), "Wie".into(), "Waarom".into()],
            vec![
                "7-12-2026 10:00".into(),
                "Ayşe Yılmaz".into(),
                "een \"gesprek\"; voorbereiden\nmet twee regels".into(),
            ],
            vec!["=HYPERLINK(\"x\")".into(), "@SUM(A1)".into(), "-1+1".into()],
        ];
        let bytes = csv(&rows).expect("csv");
        assert!(bytes.starts_with(b"\xef\xbb\xbf"), "a byte-order mark for spreadsheets");
        assert!(bytes.ends_with(b"\r\n"));
        let mut reader =
            ::csv::ReaderBuilder::new().delimiter(b';').has_headers(false).from_reader(&bytes[3..]);
        let back: Vec<Vec<String>> =
            reader.records().map(|r| r.expect("row").iter().map(str::to_owned).collect()).collect();
        assert_eq!(back[..2], rows[..2]);
        assert_eq!(back[2], vec!["'=HYPERLINK(\"x\")", "'@SUM(A1)", "'-1+1"]);
        let ragged = vec![vec!["a".to_owned(), "b".to_owned()], vec!["c".to_owned()]];
        assert_eq!(csv(&ragged).expect_err("ragged").code(), "invalid_input");
    }
}
