//! How the PIN becomes part of the key that opens the store, in each place the device secret
//! can live.
//!
//! Where the OS keychain keeps the device secret, a copy of the account folder lacks it, so the
//! PIN behind PBKDF2 is enough. Where the secret is a file next to the store, a copy holds
//! everything needed to try all PINs offline. There the PIN goes through an oblivious PRF
//! (RFC 9497) keyed per device on the server: the server never learns the PIN, the device
//! cannot compute the result without the server, and the server counts every try.

use ring::hmac;
use voprf::{BlindedElement, EvaluationElement, OprfClient, OprfServer, Ristretto255};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::{sha256, CryptoError, Result, SECRET_LEN};

/// Bytes of a blinded PIN and of the server's answer (a compressed ristretto255 point).
pub const ELEMENT_LEN: usize = 32;

/// How the store's PIN key is formed; kept readable in the store, so the app knows before
/// the PIN whether it needs the server. Changing it on disk only makes the store not open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinMode {
    /// Stores made before this scheme: PIN and device secret only, no counter seal. Moved to
    /// one of the others at the first unlock that can.
    Legacy,
    /// The device secret is in the OS keychain: the PIN opens the store offline.
    Keychain,
    /// The device secret is a file: the PIN needs the server's per-device key.
    Server,
}

impl PinMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Legacy => "legacy",
            Self::Keychain => "keychain",
            Self::Server => "server",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Legacy, Self::Keychain, Self::Server].into_iter().find(|m| m.as_str() == s)
    }
}

/// What one PIN try needs besides the PIN: the secret mixed into the key-encryption key, and
/// the key that seals the wrong-PIN counter. Wiped from memory when dropped.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct PinSecrets {
    kek_secret: [u8; SECRET_LEN],
    counter_key: [u8; SECRET_LEN],
}

impl PinSecrets {
    /// `oprf_output` is the server's part, required in [`PinMode::Server`] and ignored
    /// otherwise. Each mode gives a different key, so a store cannot be opened under another
    /// mode than the one it was made with.
    pub fn new(mode: PinMode, device_secret: &[u8; SECRET_LEN], oprf_output: Option<&[u8]>) -> Result<Self> {
        let kek_secret = match (mode, oprf_output) {
            (PinMode::Legacy, _) => *device_secret,
            (PinMode::Keychain, _) => tagged(b"mijn-cjg/pin/keychain/v2", &[device_secret]),
            (PinMode::Server, Some(out)) => tagged(b"mijn-cjg/pin/server/v2", &[device_secret, out]),
            (PinMode::Server, None) => return Err(CryptoError::BadKey),
        };
        Ok(Self { kek_secret, counter_key: tagged(b"mijn-cjg/pin/counter/v2", &[device_secret]) })
    }

    pub fn kek_secret(&self) -> &[u8; SECRET_LEN] {
        &self.kek_secret
    }

    /// The seal over a wrong-PIN count: only who holds the device secret can write one.
    pub fn seal_counter(&self, failed: u32) -> String {
        let key = hmac::Key::new(hmac::HMAC_SHA256, &self.counter_key);
        let tag = hmac::sign(&key, &counter_message(failed));
        format!("{failed}:{}", crate::b64(tag.as_ref()))
    }

    /// The count in `sealed`, or `None` when it was not written by [`Self::seal_counter`].
    pub fn open_counter(&self, sealed: &str) -> Option<u32> {
        let (n, tag) = sealed.split_once(':')?;
        let failed: u32 = n.parse().ok()?;
        let key = hmac::Key::new(hmac::HMAC_SHA256, &self.counter_key);
        hmac::verify(&key, &counter_message(failed), &crate::unb64(tag)?).ok()?;
        Some(failed)
    }
}

fn counter_message(failed: u32) -> Vec<u8> {
    [b"mijn-cjg/failed-unlocks/".as_slice(), &failed.to_be_bytes()].concat()
}

fn tagged(tag: &[u8], parts: &[&[u8]]) -> [u8; SECRET_LEN] {
    let mut input = Zeroizing::new(Vec::with_capacity(64 + tag.len()));
    input.extend_from_slice(tag);
    for p in parts {
        input.extend_from_slice(&u32::try_from(p.len()).unwrap_or(u32::MAX).to_be_bytes());
        input.extend_from_slice(p);
    }
    sha256(&input)
}

/// Proves to the server that a PIN try comes from someone holding this device's folder, so a
/// stranger who knows only the device id cannot use up its tries. Only its hash is kept there.
pub fn pin_token(device_secret: &[u8; SECRET_LEN]) -> String {
    crate::b64(&tagged(b"mijn-cjg/pin/token/v1", &[device_secret]))
}

/// A PIN blinded for the server: the server sees a random-looking point, never the PIN.
pub struct BlindedPin {
    state: OprfClient<Ristretto255>,
    pub blinded: [u8; ELEMENT_LEN],
}

impl BlindedPin {
    pub fn new(pin: &[u8]) -> Result<Self> {
        let r =
            OprfClient::<Ristretto255>::blind(pin, &mut rand_core::OsRng).map_err(|_| CryptoError::Random)?;
        let blinded = r.message.serialize().into();
        Ok(Self { state: r.state, blinded })
    }

    /// The PRF output for this PIN under the server's key, from the server's answer.
    pub fn finish(&self, pin: &[u8], evaluation: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let evaluation =
            EvaluationElement::<Ristretto255>::deserialize(evaluation).map_err(|_| CryptoError::BadKey)?;
        let out = self.state.finalize(pin, &evaluation).map_err(|_| CryptoError::BadKey)?;
        Ok(Zeroizing::new(out.to_vec()))
    }
}

/// The server's per-device PRF key.
pub struct PinKey(OprfServer<Ristretto255>);

impl PinKey {
    pub fn generate() -> Result<Self> {
        OprfServer::new(&mut rand_core::OsRng).map(Self).map_err(|_| CryptoError::Random)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        OprfServer::deserialize(bytes).map(Self).map_err(|_| CryptoError::BadKey)
    }

    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(self.0.serialize().to_vec())
    }

    /// The server's step: the blinded PIN times the key. A malformed point is refused.
    pub fn evaluate(&self, blinded: &[u8]) -> Result<[u8; ELEMENT_LEN]> {
        let blinded =
            BlindedElement::<Ristretto255>::deserialize(blinded).map_err(|_| CryptoError::BadKey)?;
        Ok(self.0.blind_evaluate(&blinded).serialize().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(key: &PinKey, pin: &[u8]) -> Vec<u8> {
        let b = BlindedPin::new(pin).expect("blind");
        b.finish(pin, &key.evaluate(&b.blinded).expect("evaluate")).expect("finish").to_vec()
    }

    #[test]
    fn the_output_depends_on_pin_and_key_and_not_on_the_blinding() {
        let key = PinKey::generate().expect("key");
        let again = PinKey::from_bytes(&key.to_bytes()).expect("stored key");
        assert_eq!(output(&key, b"482916"), output(&again, b"482916"));
        assert_ne!(output(&key, b"482916"), output(&key, b"482917"));
        assert_ne!(output(&key, b"482916"), output(&PinKey::generate().expect("key"), b"482916"));
        let a = BlindedPin::new(b"482916").expect("blind");
        let b = BlindedPin::new(b"482916").expect("blind");
        assert_ne!(a.blinded, b.blinded, "the server cannot link two tries of one PIN");
        assert!(key.evaluate(&[0xff; 32]).is_err(), "not a point");
    }

    #[test]
    fn each_mode_gives_its_own_key_and_the_server_mode_needs_the_server() {
        let secret = [7; SECRET_LEN];
        let keys: Vec<[u8; SECRET_LEN]> = [
            PinSecrets::new(PinMode::Legacy, &secret, None),
            PinSecrets::new(PinMode::Keychain, &secret, None),
            PinSecrets::new(PinMode::Server, &secret, Some(b"one")),
            PinSecrets::new(PinMode::Server, &secret, Some(b"two")),
        ]
        .into_iter()
        .map(|s| *s.expect("secrets").kek_secret())
        .collect();
        for (i, a) in keys.iter().enumerate() {
            assert!(keys[i + 1..].iter().all(|b| a != b));
        }
        assert!(PinSecrets::new(PinMode::Server, &secret, None).is_err());
    }

    #[test]
    fn a_counter_written_without_the_device_secret_is_refused() {
        let s = PinSecrets::new(PinMode::Keychain, &[7; SECRET_LEN], None).expect("secrets");
        let other = PinSecrets::new(PinMode::Keychain, &[8; SECRET_LEN], None).expect("secrets");
        assert_eq!(s.open_counter(&s.seal_counter(3)), Some(3));
        let sealed = s.seal_counter(3);
        let (_, tag) = sealed.split_once(':').expect("form");
        assert_eq!(s.open_counter(&format!("0:{tag}")), None, "the count changed");
        assert_eq!(s.open_counter("0"), None);
        assert_eq!(other.open_counter(&sealed), None);
    }
}
