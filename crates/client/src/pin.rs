//! The PIN's server part, where the device secret is a file (see `cjg_crypto::pin`): the
//! device blinds the PIN, the server applies its per-device key, the device unblinds. Without
//! the server's answer the store cannot be opened, so a copied folder cannot be guessed
//! offline, and the server counts every try.

use cjg_core::api::{PinKeyRequest, PinTryRequest};
use cjg_core::validate::Pin;
use cjg_core::ErrorCode;
use cjg_crypto::pin::{pin_token, BlindedPin, PinMode, PinSecrets};
use cjg_crypto::SECRET_LEN;
use uuid::Uuid;

use crate::{Client, ClientError, Result};

/// Sets up (or, after a PIN change, asks again) the server's part for a signed-in device.
pub async fn set_up(
    client: &Client,
    token: &str,
    pin: &Pin,
    device_secret: &[u8; SECRET_LEN],
) -> Result<PinSecrets> {
    let blinded = BlindedPin::new(pin.as_bytes())?;
    let req =
        PinKeyRequest { blinded: cjg_crypto::b64(&blinded.blinded), pin_token: pin_token(device_secret) };
    let answer = client.pin_key(token, &req).await?;
    finish(&blinded, pin, device_secret, &answer.evaluation)
}

/// One counted try from a locked app. Without the server there is no try at all: the person
/// is told plainly, and nothing is counted on the device.
pub async fn try_pin(
    server_url: &str,
    device_id: Uuid,
    pin: &Pin,
    device_secret: &[u8; SECRET_LEN],
) -> Result<PinSecrets> {
    let client = Client::new(server_url)?;
    let blinded = BlindedPin::new(pin.as_bytes())?;
    let req = PinTryRequest {
        device_id,
        pin_token: pin_token(device_secret),
        blinded: cjg_crypto::b64(&blinded.blinded),
    };
    let answer = match client.pin_try(&req).await {
        Ok(a) => a,
        Err(ClientError::Unreachable(_)) => return Err(ClientError::PinNeedsServer),
        Err(ClientError::Api { code: ErrorCode::DeviceLocked, .. }) => return Err(ClientError::DeviceLocked),
        Err(e) => return Err(e),
    };
    finish(&blinded, pin, device_secret, &answer.evaluation)
}

fn finish(
    blinded: &BlindedPin,
    pin: &Pin,
    device_secret: &[u8; SECRET_LEN],
    evaluation: &str,
) -> Result<PinSecrets> {
    let evaluation = cjg_crypto::unb64(evaluation)
        .ok_or_else(|| ClientError::InvalidResponse("the PIN evaluation is not base64url".into()))?;
    let output = blinded.finish(pin.as_bytes(), &evaluation).map_err(|_| {
        ClientError::InvalidResponse("the PIN evaluation is not a valid group element".into())
    })?;
    Ok(PinSecrets::new(PinMode::Server, device_secret, Some(&output))?)
}
