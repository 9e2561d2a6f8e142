//! The device secret: 32 random bytes kept outside the database, mixed into the PIN key.
//! Here it lives in a file with owner-only permissions next to the store; the OS keychain
//! replaces the file where one exists (see ARCHITECTURE.md, security model).

use std::io::Write;
use std::path::Path;

use cjg_crypto::SECRET_LEN;

use crate::{ClientError, Result};

pub fn load_or_create(path: &Path) -> Result<[u8; SECRET_LEN]> {
    match std::fs::read(path) {
        Ok(bytes) => bytes.try_into().map_err(|_| {
            ClientError::DeviceSecret(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "device secret has the wrong length",
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let secret: [u8; SECRET_LEN] = cjg_crypto::random_array()?;
            write_private(path, &secret).map_err(ClientError::DeviceSecret)?;
            Ok(secret)
        }
        Err(e) => Err(ClientError::DeviceSecret(e)),
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_then_read_back() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("device.secret");
        let a = load_or_create(&p).expect("create");
        let b = load_or_create(&p).expect("read");
        assert_eq!(a, b);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        std::fs::write(&p, b"short").expect("overwrite");
        assert!(load_or_create(&p).is_err());
    }
}
