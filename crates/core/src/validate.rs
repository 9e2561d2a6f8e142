//! Parsing of the small values that cross a boundary: activation codes, PINs, text fields.

use std::fmt;

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ValidationError {
    #[error("{field} is empty")]
    Empty { field: &'static str },
    #[error("{field} is longer than {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("{field} contains characters that are not allowed")]
    BadCharacters { field: &'static str },
    #[error("the activation code does not have the right form")]
    ActivationCodeFormat,
    #[error("a PIN has {min} to {max} digits")]
    PinFormat { min: usize, max: usize },
    #[error("this PIN is too easy to guess")]
    PinTooSimple,
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: &'static str },
}

/// Characters that change how the text around them is shown without being seen themselves:
/// bidirectional overrides, isolates and marks (which can make "Milan" read as "naliM" or hide
/// part of a name), zero-width spaces and joiners, the byte-order mark and the soft hyphen.
/// A name or note that carries one can pass for another, so single-line fields refuse them.
fn is_invisible_format(c: char) -> bool {
    is_bidi_control(c)
        || is_emoji_modifier(c)
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200D}'
                | '\u{2060}'..='\u{2064}'
                | '\u{206A}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{1BCA0}'..='\u{1BCA3}'
                | '\u{1D173}'..='\u{1D17A}'
        )
}

/// Invisible on their own but part of how emoji and some scripts are written: joiners,
/// variation selectors and tag characters. Long text keeps them; a one-line label does not.
fn is_emoji_modifier(c: char) -> bool {
    matches!(c, '\u{200C}' | '\u{200D}' | '\u{FE00}'..='\u{FE0F}' | '\u{E0000}'..='\u{E007F}' | '\u{E0100}'..='\u{E01EF}')
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Spaces that look like an ordinary space (no-break, thin, ideographic ...): kept as a plain
/// space, so two names that look the same are the same.
fn is_odd_space(c: char) -> bool {
    c != ' ' && c.is_whitespace() && !c.is_control() && c != '\u{2028}' && c != '\u{2029}'
}

/// One line of text a person reads as a label (a name, a note, a device name): no line breaks,
/// no control or invisible formatting characters, odd spaces made plain.
pub fn single_line(field: &'static str, s: &str, max: usize) -> Result<String, ValidationError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(ValidationError::Empty { field });
    }
    if t.chars().count() > max {
        return Err(ValidationError::TooLong { field, max });
    }
    if t.chars().any(|c| c.is_control() || is_invisible_format(c) || c == '\u{2028}' || c == '\u{2029}') {
        return Err(ValidationError::BadCharacters { field });
    }
    Ok(t.chars().map(|c| if is_odd_space(c) { ' ' } else { c }).collect())
}

/// Text of several lines (an entry, a message, an article): only ordinary whitespace is kept
/// (space, tab, newline; Windows and Unicode line ends become a newline, odd spaces a space).
/// Bidirectional controls are refused (they can make the text read differently from what it
/// says); zero-width joiners stay, as emoji and Arabic or Persian words need them, but every
/// other invisible character is refused.
pub fn multi_line(field: &'static str, s: &str, max: usize) -> Result<String, ValidationError> {
    if s.trim().is_empty() {
        return Err(ValidationError::Empty { field });
    }
    if s.chars().count() > max {
        return Err(ValidationError::TooLong { field, max });
    }
    if s.chars().any(|c| {
        (c.is_control() && c != '\n' && c != '\t' && c != '\r')
            || (is_invisible_format(c) && !is_emoji_modifier(c))
    }) {
        return Err(ValidationError::BadCharacters { field });
    }
    Ok(s.replace("\r\n", "\n")
        .chars()
        .map(|c| match c {
            '\r' | '\u{2028}' | '\u{2029}' => '\n',
            c if is_odd_space(c) => ' ',
            c => c,
        })
        .collect())
}

/// Letters and digits a person can read aloud and type without confusion (no 0/O, 1/I/L, U).
pub const CODE_ALPHABET: &[u8; 30] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";
const CODE_GROUPS: usize = 3;
const CODE_GROUP_LEN: usize = 4;

/// A single-use activation code: 12 symbols from [`CODE_ALPHABET`], shown as `ABCD-EFGH-JKMN`.
/// 30^12 ≈ 5·10^17 codes, and the server rate-limits attempts, so guessing is hopeless.
#[derive(Clone, PartialEq, Eq)]
pub struct ActivationCode(String);

impl ActivationCode {
    pub const LEN: usize = CODE_GROUPS * CODE_GROUP_LEN;

    /// Accepts what people type: lower case, spaces or dashes anywhere.
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let normal: String = input
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if normal.len() != Self::LEN || !normal.bytes().all(|b| CODE_ALPHABET.contains(&b)) {
            return Err(ValidationError::ActivationCodeFormat);
        }
        Ok(Self(normal))
    }

    /// Builds a code from random bytes (the caller brings the randomness: core has none).
    pub fn from_random(bytes: &[u8; Self::LEN]) -> Self {
        // 256 % 30 != 0 gives a tiny bias; 30 symbols per byte keep 4.9 bits each, ample here.
        let s = bytes.iter().map(|b| CODE_ALPHABET[(*b as usize) % CODE_ALPHABET.len()] as char).collect();
        Self(s)
    }

    /// The canonical form, without dashes: what the server hashes.
    pub fn canonical(&self) -> &str {
        &self.0
    }

    pub fn display(&self) -> String {
        self.0
            .as_bytes()
            .chunks(CODE_GROUP_LEN)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("-")
    }
}

/// Codes are secrets: never print them by accident.
impl fmt::Debug for ActivationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ActivationCode(****)")
    }
}

/// The PIN that unlocks the local store. Digits only, so parents with little reading
/// experience can use a number pad; the device secret (not in the database) is what
/// keeps a copied database safe, the PIN keeps out a person holding the device. Wiped from
/// memory when dropped.
#[derive(Clone, PartialEq, Eq, zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
pub struct Pin(String);

impl Pin {
    pub const MIN: usize = 6;
    pub const MAX: usize = 12;

    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let len = input.chars().count();
        if !(Self::MIN..=Self::MAX).contains(&len) || !input.chars().all(|c| c.is_ascii_digit()) {
            return Err(ValidationError::PinFormat { min: Self::MIN, max: Self::MAX });
        }
        let b = input.as_bytes();
        let all_same = b.iter().all(|&c| c == b[0]);
        let ascending = b.windows(2).all(|w| w[1] == w[0] + 1);
        let descending = b.windows(2).all(|w| w[0] == w[1] + 1);
        if all_same || ascending || descending {
            return Err(ValidationError::PinTooSimple);
        }
        Ok(Self(input.to_owned()))
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(****)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_line_refuses_what_could_spoof_a_name() {
        for spoof in [
            "Milan\u{202E}naS",
            "Sanne\u{200B}",
            "Ka\u{2066}rim",
            "a\u{200D}b",
            "\u{FEFF}Noor",
            "x\u{061C}y",
            "a\nb",
            "Sanne\u{E0041}",
            "Noor\u{3164}",
            "Da\u{034F}an",
            "Milan\u{FE0F}",
        ] {
            assert_eq!(
                single_line("name", spoof, 50),
                Err(ValidationError::BadCharacters { field: "name" }),
                "{spoof:?}"
            );
        }
        assert_eq!(single_line("name", " Jan\u{00A0}de\u{2009}Vries ", 50).as_deref(), Ok("Jan de Vries"));
        assert_eq!(single_line("name", "Zoë Çelik-Ærø", 50).as_deref(), Ok("Zoë Çelik-Ærø"));
    }

    #[test]
    fn multi_line_keeps_only_ordinary_whitespace() {
        assert_eq!(multi_line("t", "a\r\nb\rc\u{2028}d\u{00A0}e\tf", 50).as_deref(), Ok("a\nb\nc\nd e\tf"));
        for spoof in
            ["if x \u{202E} then", "a\u{2067}b", "zero\u{200B}width", "a\u{000B}b", "\u{FEFF}x", "a\u{3164}b"]
        {
            assert!(multi_line("t", spoof, 50).is_err(), "{spoof:?}");
        }
        // Emoji sequences and Persian words need the joiners.
        let family = "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467} \u{2764}\u{FE0F} می\u{200C}خواهم";
        assert_eq!(multi_line("t", family, 50).as_deref(), Ok(family));
    }

    #[test]
    fn activation_code_accepts_what_people_type() {
        let c = ActivationCode::parse(" abcd-efgh jkmn ").expect("valid");
        assert_eq!(c.canonical(), "ABCDEFGHJKMN");
        assert_eq!(c.display(), "ABCD-EFGH-JKMN");
        assert_eq!(format!("{c:?}"), "ActivationCode(****)");
    }

    #[test]
    fn activation_code_rejects_wrong_forms() {
        for bad in ["", "ABCD-EFGH", "ABCD-EFGH-JKMN-P", "ABCD-EFGH-JKM0", "ABCD-EFGH-JKMI", "ÄBCD-EFGH-JKMN"]
        {
            assert_eq!(ActivationCode::parse(bad), Err(ValidationError::ActivationCodeFormat), "{bad}");
        }
    }

    #[test]
    fn random_codes_parse_back() {
        let c = ActivationCode::from_random(&[255; ActivationCode::LEN]);
        assert_eq!(ActivationCode::parse(&c.display()).expect("valid"), c);
    }

    #[test]
    fn pins_must_be_digits_of_the_right_length_and_not_trivial() {
        assert!(Pin::parse("902417").is_ok());
        assert!(Pin::parse("90241").is_err());
        assert!(Pin::parse("9024170000000").is_err());
        assert!(Pin::parse("90a417").is_err());
        assert_eq!(Pin::parse("111111"), Err(ValidationError::PinTooSimple));
        assert_eq!(Pin::parse("123456"), Err(ValidationError::PinTooSimple));
        assert_eq!(Pin::parse("987654"), Err(ValidationError::PinTooSimple));
        assert_eq!(format!("{:?}", Pin::parse("902417").expect("valid")), "Pin(****)");
    }
}
