//! Everything that touches `ring`. Other crates never see a raw key: they get [`DataKey`],
//! [`DeviceKey`] and [`Sealed`], so plaintext cannot reach the disk by mistake.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::aead::{Aad as RingAad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{self, Ed25519KeyPair, KeyPair};
use ring::{digest, hkdf, pbkdf2};
use std::num::NonZeroU32;
use thiserror::Error;

pub mod chain;
pub mod pin;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum CryptoError {
    /// The sealed bytes were changed, belong to another row or version, or the key is wrong.
    #[error("sealed data failed authentication")]
    Tampered,
    /// The PIN (or the device secret) does not open the wrapped data key.
    #[error("the key could not be unwrapped")]
    WrongKey,
    #[error("the system random generator failed")]
    Random,
    #[error("the key material is malformed")]
    BadKey,
}

pub type Result<T> = std::result::Result<T, CryptoError>;

/// OWASP's 2023 floor for PBKDF2-HMAC-SHA256: never fewer, however slow the device.
pub const PBKDF2_ITERATIONS: u32 = 600_000;
/// A ceiling so a hiccup during calibration cannot make unlocking take many seconds.
pub const PBKDF2_ITERATIONS_MAX: u32 = 10_000_000;
/// What a PIN unlock should cost on the device that sets the PIN: slow for guessing, quick for
/// a parent (the benchmark checks it stays within 0.2 to 1 s).
pub const UNLOCK_TARGET: std::time::Duration = std::time::Duration::from_millis(350);

/// The PBKDF2 iteration count that takes about `target` on this device, measured now, within
/// [`PBKDF2_ITERATIONS`] and [`PBKDF2_ITERATIONS_MAX`]. The count is stored beside the salt, so
/// each store keeps the cost it was made with.
pub fn calibrated_iterations(target: std::time::Duration) -> u32 {
    const PROBE: u32 = 50_000;
    let probe = NonZeroU32::new(PROBE).unwrap_or(NonZeroU32::MIN);
    let mut out = [0u8; 32];
    // The faster of two probes: the first may pay for cold caches.
    let fastest = (0..2)
        .map(|_| {
            let t = std::time::Instant::now();
            pbkdf2::derive(pbkdf2::PBKDF2_HMAC_SHA256, probe, b"calibration-salt", b"000000", &mut out);
            t.elapsed()
        })
        .min()
        .unwrap_or_default();
    let per_iteration = fastest.as_secs_f64() / f64::from(PROBE);
    if per_iteration <= 0.0 {
        return PBKDF2_ITERATIONS_MAX;
    }
    let wanted = target.as_secs_f64() / per_iteration;
    // Rounded to 10,000 so the stored count reads as a choice, not noise.
    let wanted = (wanted / 10_000.0).round() * 10_000.0;
    if wanted >= f64::from(PBKDF2_ITERATIONS_MAX) {
        PBKDF2_ITERATIONS_MAX
    } else {
        // In range of u32 here: below the ceiling and not negative.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let n = wanted.max(0.0) as u32;
        n.max(PBKDF2_ITERATIONS)
    }
}
pub const SALT_LEN: usize = 16;
pub const SECRET_LEN: usize = 32;

pub fn random_array<const N: usize>() -> Result<[u8; N]> {
    let mut out = [0u8; N];
    SystemRandom::new().fill(&mut out).map_err(|_| CryptoError::Random)?;
    Ok(out)
}

pub fn sha256(data: &[u8]) -> [u8; 32] {
    let d = digest::digest(&digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// HMAC-SHA-256 of `data` under `key`.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let tag = ring::hmac::sign(&ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key), data);
    let mut out = [0u8; 32];
    out.copy_from_slice(tag.as_ref());
    out
}

/// Whether `tag` is the HMAC-SHA-256 of `data` under `key` (compared in constant time).
pub fn hmac_sha256_verify(key: &[u8], data: &[u8], tag: &[u8]) -> bool {
    ring::hmac::verify(&ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key), data, tag).is_ok()
}

pub fn b64(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

pub fn unb64(s: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(s).ok()
}

/// Binds a sealed row to its place: moving a ciphertext to another table, row or version
/// makes it fail to open instead of showing the wrong content.
#[derive(Debug, Clone, Copy)]
pub struct RowAad<'a> {
    pub table: &'a str,
    pub id: &'a str,
    pub version: i64,
}

impl RowAad<'_> {
    fn bytes(&self) -> Vec<u8> {
        format!("mijn-cjg/row/v1\0{}\0{}\0{}", self.table, self.id, self.version).into_bytes()
    }
}

/// Ciphertext as stored: nonce ‖ AES-256-GCM(ciphertext ‖ tag).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed(Vec<u8>);

impl Sealed {
    /// Bytes read back from storage; they are only trusted after [`DataKey::open`].
    pub fn from_stored(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

fn aes_key(bytes: &[u8; 32]) -> LessSafeKey {
    // A 32-byte slice is always a valid AES-256 key: this cannot fail.
    #[allow(clippy::expect_used)]
    LessSafeKey::new(UnboundKey::new(&AES_256_GCM, bytes).expect("32-byte AES-256 key"))
}

fn seal_with(key: &LessSafeKey, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
    let nonce_bytes: [u8; NONCE_LEN] = random_array()?;
    let mut buf = plaintext.to_vec();
    key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce_bytes), RingAad::from(aad), &mut buf)
        .map_err(|_| CryptoError::Random)?;
    let mut out = Vec::with_capacity(NONCE_LEN + buf.len());
    out.extend_from_slice(&nonce_bytes);
    out.extend_from_slice(&buf);
    Ok(out)
}

fn open_with(key: &LessSafeKey, aad: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() < NONCE_LEN + AES_256_GCM.tag_len() {
        return None;
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    let mut buf = body.to_vec();
    let plain = key.open_in_place(nonce, RingAad::from(aad), &mut buf).ok()?;
    Some(plain.to_vec())
}

/// The random 256-bit key that encrypts every row of the local store.
pub struct DataKey {
    key: LessSafeKey,
    raw: [u8; 32],
}

impl DataKey {
    pub fn generate() -> Result<Self> {
        Ok(Self::from_raw(random_array()?))
    }

    fn from_raw(raw: [u8; 32]) -> Self {
        Self { key: aes_key(&raw), raw }
    }

    pub fn seal(&self, aad: RowAad<'_>, plaintext: &[u8]) -> Result<Sealed> {
        seal_with(&self.key, &aad.bytes(), plaintext).map(Sealed)
    }

    pub fn open(&self, aad: RowAad<'_>, sealed: &Sealed) -> Result<Vec<u8>> {
        open_with(&self.key, &aad.bytes(), &sealed.0).ok_or(CryptoError::Tampered)
    }

    /// The data key encrypted under the key-encryption key, for the store's header.
    pub fn wrap(&self, kek: &Kek) -> Result<Vec<u8>> {
        seal_with(&kek.0, WRAP_AAD, &self.raw)
    }

    pub fn unwrap(kek: &Kek, wrapped: &[u8]) -> Result<Self> {
        let raw = open_with(&kek.0, WRAP_AAD, wrapped).ok_or(CryptoError::WrongKey)?;
        let raw: [u8; 32] = raw.try_into().map_err(|_| CryptoError::WrongKey)?;
        Ok(Self::from_raw(raw))
    }
}

const WRAP_AAD: &[u8] = b"mijn-cjg/data-key/v1";

/// Key-encryption key: PBKDF2 over the PIN, then HKDF with a device secret kept outside the
/// database. A copied database alone cannot be brute-forced through the 6-digit PIN space.
pub struct Kek(LessSafeKey);

struct Len32;
impl hkdf::KeyType for Len32 {
    fn len(&self) -> usize {
        32
    }
}

impl Kek {
    pub fn derive(pin: &[u8], salt: &[u8], iterations: u32, device_secret: &[u8; SECRET_LEN]) -> Self {
        let iterations = NonZeroU32::new(iterations.max(1)).unwrap_or(NonZeroU32::MIN);
        let mut stretched = [0u8; 32];
        pbkdf2::derive(pbkdf2::PBKDF2_HMAC_SHA256, iterations, salt, pin, &mut stretched);
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, device_secret).extract(&stretched);
        let mut out = [0u8; 32];
        // Expanding 32 bytes from HKDF-SHA256 is within its limit: these cannot fail.
        #[allow(clippy::expect_used)]
        prk.expand(&[b"mijn-cjg/kek/v1"], Len32)
            .expect("32 bytes is a valid HKDF length")
            .fill(&mut out)
            .expect("32 bytes is a valid HKDF length");
        let kek = Self(aes_key(&out));
        // ring's key schedule inside LessSafeKey cannot be wiped; these copies can.
        zeroize::Zeroize::zeroize(&mut stretched);
        zeroize::Zeroize::zeroize(&mut out);
        kek
    }

    /// A key-encryption key from a random 256-bit unlock key (kept in the OS keychain). It is
    /// random already, so it needs no stretching; HKDF only separates it from other uses.
    pub fn from_unlock_key(unlock_key: &[u8; SECRET_LEN]) -> Self {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"mijn-cjg/unlock-key").extract(unlock_key);
        let mut out = [0u8; 32];
        #[allow(clippy::expect_used)]
        prk.expand(&[b"mijn-cjg/kek/unlock-key/v1"], Len32)
            .expect("32 bytes is a valid HKDF length")
            .fill(&mut out)
            .expect("32 bytes is a valid HKDF length");
        Self(aes_key(&out))
    }
}

/// The Ed25519 key that identifies an enrolled device. Its PKCS#8 form is itself stored sealed.
pub struct DeviceKey {
    pair: Ed25519KeyPair,
    pkcs8: Vec<u8>,
}

impl DeviceKey {
    pub fn generate() -> Result<Self> {
        let doc = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).map_err(|_| CryptoError::Random)?;
        Self::from_pkcs8(doc.as_ref())
    }

    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self> {
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8).map_err(|_| CryptoError::BadKey)?;
        Ok(Self { pair, pkcs8: pkcs8.to_vec() })
    }

    pub fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    pub fn public_key(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(self.pair.public_key().as_ref());
        out
    }

    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.pair.sign(message).as_ref().to_vec()
    }
}

pub fn verify_ed25519(public_key: &[u8], message: &[u8], sig: &[u8]) -> bool {
    signature::UnparsedPublicKey::new(&signature::ED25519, public_key).verify(message, sig).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const AAD: RowAad<'static> = RowAad { table: "entries", id: "e1", version: 1 };

    #[test]
    fn calibration_stays_between_the_floor_and_the_ceiling() {
        use std::time::Duration;
        assert_eq!(calibrated_iterations(Duration::ZERO), PBKDF2_ITERATIONS, "never below the floor");
        assert_eq!(calibrated_iterations(Duration::from_secs(3600)), PBKDF2_ITERATIONS_MAX);
        let n = calibrated_iterations(UNLOCK_TARGET);
        assert!((PBKDF2_ITERATIONS..=PBKDF2_ITERATIONS_MAX).contains(&n) && n.is_multiple_of(10_000), "{n}");
    }

    #[test]
    fn seal_open_round_trip_with_fresh_nonces() {
        let k = DataKey::generate().expect("rng");
        let a = k.seal(AAD, b"gespreksverslag").expect("seal");
        let b = k.seal(AAD, b"gespreksverslag").expect("seal");
        assert_ne!(a, b, "fresh nonce every time");
        assert_eq!(k.open(AAD, &a).expect("open"), b"gespreksverslag");
    }

    #[test]
    fn moved_or_changed_ciphertext_fails() {
        let k = DataKey::generate().expect("rng");
        let s = k.seal(AAD, b"tekst").expect("seal");
        for aad in
            [RowAad { table: "people", ..AAD }, RowAad { id: "e2", ..AAD }, RowAad { version: 2, ..AAD }]
        {
            assert_eq!(k.open(aad, &s), Err(CryptoError::Tampered));
        }
        let mut bytes = s.as_bytes().to_vec();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_eq!(k.open(AAD, &Sealed::from_stored(bytes)), Err(CryptoError::Tampered));
        assert_eq!(k.open(AAD, &Sealed::from_stored(vec![1, 2, 3])), Err(CryptoError::Tampered));
    }

    #[test]
    fn wrapped_key_needs_pin_and_device_secret() {
        let secret = [7u8; SECRET_LEN];
        let kek = Kek::derive(b"902417", b"salt-salt-salt-s", 1000, &secret);
        let k = DataKey::generate().expect("rng");
        let wrapped = k.wrap(&kek).expect("wrap");
        let again = DataKey::unwrap(&kek, &wrapped).expect("unwrap");
        let s = k.seal(AAD, b"x").expect("seal");
        assert_eq!(again.open(AAD, &s).expect("open"), b"x");

        let wrong_pin = Kek::derive(b"902418", b"salt-salt-salt-s", 1000, &secret);
        assert!(matches!(DataKey::unwrap(&wrong_pin, &wrapped), Err(CryptoError::WrongKey)));
        let wrong_secret = Kek::derive(b"902417", b"salt-salt-salt-s", 1000, &[8u8; SECRET_LEN]);
        assert!(matches!(DataKey::unwrap(&wrong_secret, &wrapped), Err(CryptoError::WrongKey)));
    }

    #[test]
    fn device_key_signs_and_survives_pkcs8() {
        let d = DeviceKey::generate().expect("rng");
        let sig = d.sign(b"challenge");
        assert!(verify_ed25519(&d.public_key(), b"challenge", &sig));
        assert!(!verify_ed25519(&d.public_key(), b"other", &sig));
        let back = DeviceKey::from_pkcs8(d.pkcs8()).expect("parse");
        assert_eq!(back.public_key(), d.public_key());
        assert!(DeviceKey::from_pkcs8(b"junk").is_err());
    }

    #[test]
    fn base64_round_trip() {
        assert_eq!(unb64(&b64(b"\x00\xffabc")).expect("decodes"), b"\x00\xffabc");
        assert!(unb64("***").is_none());
    }
}
