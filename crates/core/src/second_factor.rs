//! The second factor of a built-in staff account: a six-digit code from an authenticator app
//! (TOTP, RFC 6238: HMAC-SHA-1, 30-second steps, one step of clock drift either way, each step
//! accepted once), or a one-time recovery code for when the phone is lost.

use totp_rs::{Algorithm, Builder, Totp};

/// 160 bits, as RFC 4226 recommends for the shared secret.
pub const SECRET_BYTES: usize = 20;
/// Recovery codes handed out at enrolment; each works once.
pub const RECOVERY_CODES: usize = 10;
/// Characters of a recovery code (Crockford base32: 50 bits, no I, L, O or U to misread).
pub const RECOVERY_CODE_LEN: usize = 10;
/// Wrong codes in a row after which the account's second factor closes until an administrator
/// resets it. Per 15-minute window the username's guess limit already holds; this stops a slow
/// guesser who has the password from trying for months.
pub const MAX_CODE_FAILURES: i64 = 20;
/// How long an administrator's setup code holds.
pub const SETUP_CODE_DAYS: i64 = 7;
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const ISSUER: &str = "Mijn CJG";

/// What a staff member typed as their second factor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OneTimeCode {
    /// Six digits from the authenticator app.
    App(String),
    /// A recovery code, normalised (upper case, no dashes or spaces, look-alikes mapped).
    Recovery(String),
}

/// Six digits, or a recovery code with or without its dash and spaces; `None` for anything else.
pub fn parse_code(input: &str) -> Option<OneTimeCode> {
    let cleaned: String = input.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    if cleaned.len() == 6 && cleaned.bytes().all(|b| b.is_ascii_digit()) {
        return Some(OneTimeCode::App(cleaned));
    }
    if cleaned.chars().count() != RECOVERY_CODE_LEN {
        return None;
    }
    let normalised: Option<String> = cleaned
        .chars()
        .map(|c| match c.to_ascii_uppercase() {
            'O' => Some('0'),
            'I' | 'L' => Some('1'),
            c if CROCKFORD.contains(&(c as u8)) && c.is_ascii() => Some(c),
            _ => None,
        })
        .collect();
    normalised.map(OneTimeCode::Recovery)
}

fn totp(secret: &[u8], account: &str) -> Option<Totp> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(secret.to_vec())
        .with_issuer(Some(ISSUER))
        // A colon separates issuer and account in the otpauth label.
        .with_account_name(account.replace(':', " "))
        .build()
        .ok()
}

/// The time step a valid app code belongs to, when that step is newer than `last_step`: a code
/// counts once (RFC 6238 §5.2), so one seen over someone's shoulder is worth nothing after use.
pub fn accept_code(secret: &[u8], code: &str, unix_time: u64, last_step: Option<u64>) -> Option<u64> {
    let step = totp(secret, "")?.check(code, unix_time)?;
    last_step.is_none_or(|last| step > last).then_some(step)
}

/// The code an authenticator app shows at `unix_time` (tests play the app with it).
pub fn code_at(secret: &[u8], unix_time: u64) -> Option<String> {
    Some(totp(secret, "")?.generate(unix_time).to_string())
}

/// The `otpauth://totp/...` link an authenticator app reads from the enrolment QR code.
pub fn otpauth_uri(secret: &[u8], account: &str) -> Option<String> {
    totp(secret, account)?.to_url().ok()
}

/// The secret in base32, in groups of four, for typing it into the app by hand.
pub fn secret_text(secret: &[u8]) -> Option<String> {
    let b32 = totp(secret, "")?.secret().to_base32();
    let groups: Vec<String> = b32
        .trim_end_matches('=')
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    Some(groups.join(" "))
}

/// The secret back from its text (what an authenticator app does when it is typed in).
pub fn secret_from_text(text: &str) -> Option<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    totp_rs::Secret::try_from_base32(compact).ok().map(|s| s.as_ref().to_vec())
}

/// A setup code as typed, normalised (the same form as a recovery code); `None` if it is not one.
pub fn parse_setup_code(input: &str) -> Option<String> {
    match parse_code(input)? {
        OneTimeCode::Recovery(code) => Some(code),
        OneTimeCode::App(_) => None,
    }
}

/// A recovery code (or an administrator's setup code) from random bytes, as shown: `XXXXX-XXXXX`.
pub fn recovery_code(random: &[u8; RECOVERY_CODE_LEN]) -> String {
    let chars: String = random.iter().map(|b| CROCKFORD[usize::from(b & 31)] as char).collect();
    format!("{}-{}", &chars[..5], &chars[5..])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1, the last six digits of each eight-digit value.
    #[test]
    fn codes_match_the_rfc_test_vectors() {
        let secret = b"12345678901234567890";
        for (t, code) in [(59, "287082"), (1_111_111_109, "081804"), (1_234_567_890, "005924")] {
            assert_eq!(code_at(secret, t).as_deref(), Some(code));
            assert!(accept_code(secret, code, t, None).is_some());
        }
    }

    #[test]
    fn a_code_counts_once_and_only_near_its_time() {
        let secret = [7u8; SECRET_BYTES];
        let t = 1_800_000_000;
        let code = code_at(&secret, t).expect("code");
        let step = accept_code(&secret, &code, t, None).expect("accepted");
        assert_eq!(step, t / 30);
        assert_eq!(accept_code(&secret, &code, t, Some(step)), None, "not twice");
        assert!(accept_code(&secret, &code, t + 30, None).is_some(), "one step of drift");
        assert_eq!(accept_code(&secret, &code, t + 90, None), None, "not minutes later");
        assert_eq!(accept_code(&[8u8; SECRET_BYTES], &code, t, None), None, "not with another secret");
    }

    #[test]
    fn typed_codes_are_read_forgivingly_but_nothing_else_passes() {
        assert_eq!(parse_code(" 123 456 "), Some(OneTimeCode::App("123456".into())));
        assert_eq!(parse_code("abcde-fghjk"), Some(OneTimeCode::Recovery("ABCDEFGHJK".into())));
        assert_eq!(parse_code("oOiIl-00000"), Some(OneTimeCode::Recovery("0011100000".into())));
        assert_eq!(parse_code("12345"), None);
        assert_eq!(parse_code("ABCDE-FGHIU"), None, "U is not in the alphabet");
        assert_eq!(parse_code("ÄBCDE-FGHJK"), None);
        assert_eq!(parse_code(""), None);
    }

    #[test]
    fn recovery_codes_read_back_as_themselves() {
        let code = recovery_code(&[0, 1, 2, 3, 31, 32, 200, 255, 16, 9]);
        assert_eq!(code.len(), RECOVERY_CODE_LEN + 1);
        let Some(OneTimeCode::Recovery(parsed)) = parse_code(&code) else { panic!("{code}") };
        assert_eq!(parsed, code.replace('-', ""));
    }

    #[test]
    fn the_enrolment_link_names_the_issuer_and_account() {
        let secret = [1u8; SECRET_BYTES];
        let uri = otpauth_uri(&secret, "coach").expect("uri");
        assert!(uri.starts_with("otpauth://totp/Mijn%20CJG:coach?"), "{uri}");
        assert!(uri.contains("issuer=Mijn%20CJG"), "{uri}");
        let text = secret_text(&secret).expect("text");
        assert_eq!(text.replace(' ', "").len(), 32);
        assert_eq!(secret_from_text(&text).as_deref(), Some(&secret[..]));
    }
}
