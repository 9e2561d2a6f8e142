//! The configuration file (`--config FILE`, TOML): the same settings as the flags, named as the
//! flags without their dashes (`listen`, `data_dir`, `trusted_proxy = ["10.0.0.0/8"]`). A flag
//! or an environment variable wins over the file; the file wins over the defaults. The file is
//! turned into flags placed before the ones typed, so every value is checked by the same rules.

use std::ffi::OsString;

/// One setting the file may hold.
pub struct Known<'a> {
    /// The flag without its dashes: `data-dir`.
    pub long: &'a str,
    /// Its environment variable, if it has one: when set, the file's value is not used.
    pub env: Option<&'a str>,
    /// A switch (`--demo`) rather than a flag with a value.
    pub switch: bool,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{file}: not valid TOML: {reason}")]
    Syntax { file: String, reason: String },
    #[error("{file}: unknown setting `{key}`; known are: {known}")]
    Unknown { file: String, key: String, known: String },
    #[error("{file}: `{key}` must be {expected}")]
    WrongType { file: String, key: String, expected: &'static str },
}

/// The flags the file stands for, leaving out every setting that `given` (a flag typed, an
/// environment variable set) already decides.
pub fn file_args(
    file: &str,
    text: &str,
    known: &[Known<'_>],
    given: impl Fn(&Known<'_>) -> bool,
) -> Result<Vec<OsString>, ConfigError> {
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| ConfigError::Syntax {
        file: file.into(),
        reason: e.message().into(),
    })?;
    let mut args = Vec::new();
    for (key, value) in &table {
        let Some(k) = known.iter().find(|k| k.long.replace('-', "_") == *key) else {
            let mut names: Vec<String> = known.iter().map(|k| k.long.replace('-', "_")).collect();
            names.sort();
            return Err(ConfigError::Unknown {
                file: file.into(),
                key: key.clone(),
                known: names.join(", "),
            });
        };
        let wrong = |expected| ConfigError::WrongType { file: file.into(), key: key.clone(), expected };
        if given(k) {
            continue;
        }
        let flag = format!("--{}", k.long);
        match value {
            toml::Value::Boolean(on) if k.switch => {
                if *on {
                    args.push(flag.into());
                }
            }
            _ if k.switch => return Err(wrong("true or false")),
            toml::Value::String(s) => args.extend([flag.into(), s.into()]),
            toml::Value::Integer(n) => args.extend([flag.into(), n.to_string().into()]),
            toml::Value::Array(items) => {
                for item in items {
                    let toml::Value::String(s) = item else { return Err(wrong("a list of texts")) };
                    args.extend([OsString::from(&flag), s.into()]);
                }
            }
            _ => return Err(wrong("a text, a number or a list of texts")),
        }
    }
    Ok(args)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const KNOWN: &[Known<'static>] = &[
        Known { long: "listen", env: Some("CJG_LISTEN"), switch: false },
        Known { long: "db-pool", env: Some("CJG_DB_POOL"), switch: false },
        Known { long: "trusted-proxy", env: Some("CJG_TRUSTED_PROXIES"), switch: false },
        Known { long: "demo", env: None, switch: true },
    ];

    fn args(text: &str, given: &[&str]) -> Result<Vec<String>, ConfigError> {
        file_args("cjg.toml", text, KNOWN, |k| given.contains(&k.long))
            .map(|a| a.into_iter().map(|s| s.into_string().unwrap_or_default()).collect())
    }

    #[test]
    fn settings_become_flags_unless_given() {
        let text = "listen = \"0.0.0.0:8470\"\ndb_pool = 8\ntrusted_proxy = [\"10.0.0.0/8\", \"::1\"]\ndemo = true\n";
        assert_eq!(
            args(text, &[]).unwrap(),
            [
                "--db-pool",
                "8",
                "--demo",
                "--listen",
                "0.0.0.0:8470",
                "--trusted-proxy",
                "10.0.0.0/8",
                "--trusted-proxy",
                "::1"
            ]
        );
        assert_eq!(args(text, &["listen", "demo", "trusted-proxy"]).unwrap(), ["--db-pool", "8"]);
        assert!(args("demo = false", &[]).unwrap().is_empty());
    }

    #[test]
    fn mistakes_are_named() {
        assert!(
            matches!(args("lisen = \"x\"", &[]), Err(ConfigError::Unknown { key, .. }) if key == "lisen")
        );
        assert!(matches!(args("demo = \"yes\"", &[]), Err(ConfigError::WrongType { .. })));
        assert!(matches!(args("db_pool = 1.5", &[]), Err(ConfigError::WrongType { .. })));
        assert!(matches!(args("listen = ", &[]), Err(ConfigError::Syntax { .. })));
        let e = args("lisen = 1", &[]).unwrap_err().to_string();
        assert!(e.contains("known are: db_pool, demo, listen, trusted_proxy"), "{e}");
    }
}
