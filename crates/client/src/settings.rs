//! The desktop shell's environment settings (`CJG_*`), read and range-checked in one place. A
//! value out of range keeps the default and says so once on stderr: a typo in a launcher must
//! not stop the app from starting, nor quietly turn auto-lock off.

use std::path::PathBuf;
use std::time::Duration;

use crate::app::{DEFAULT_AUTO_LOCK_MINUTES, DEFAULT_SYNC_MINUTES};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellSettings {
    /// `CJG_AUTO_LOCK_MINUTES`, 1 to 60.
    pub auto_lock: Duration,
    /// `CJG_SYNC_MINUTES`, 0 to 60; 0 turns the quiet sync off.
    pub sync_every_minutes: u32,
    /// `CJG_KEYCHAIN=off` keeps the device secret in a private file even where an OS keychain
    /// answers (a machine whose keychain prompts at every start, say).
    pub use_keychain: bool,
    /// `CJG_APP_DATA_DIR` overrides the platform's app data directory (tests, the demo script).
    pub data_dir: Option<PathBuf>,
    /// `CJG_SERVER_URL` pre-fills the welcome screen; it is checked when the person goes on.
    pub server_url: Option<String>,
    /// `CJG_EXPORT_DIR` overrides the Downloads folder (tests, machines without one).
    pub export_dir: Option<PathBuf>,
    /// `CJG_CA_FILE`: certificate authorities (PEM) to trust besides the built-in ones, for an
    /// organisation with its own, and for the tests' own.
    pub ca_file: Option<PathBuf>,
    /// `CJG_BROWSER`: the program that opens the organisation's sign-in page, instead of the
    /// system's default browser (a managed desktop that prescribes one; the tests).
    pub browser: Option<String>,
    /// What was wrong, one line each, for stderr.
    pub warnings: Vec<String>,
}

impl ShellSettings {
    /// From the process environment.
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned()))
    }

    /// From any lookup (the tests give a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let mut warnings = Vec::new();
        let mut minutes = |name: &str, range: std::ops::RangeInclusive<u32>, default: u32| match get(name) {
            None => default,
            Some(v) => match v.trim().parse::<u32>() {
                Ok(m) if range.contains(&m) => m,
                _ => {
                    warnings.push(format!(
                        "Mijn CJG: {name} must be {} to {}; using {default}",
                        range.start(),
                        range.end()
                    ));
                    default
                }
            },
        };
        let auto_lock = minutes("CJG_AUTO_LOCK_MINUTES", 1..=60, DEFAULT_AUTO_LOCK_MINUTES);
        let sync_every_minutes = minutes("CJG_SYNC_MINUTES", 0..=60, DEFAULT_SYNC_MINUTES);
        let non_empty = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        Self {
            auto_lock: Duration::from_secs(u64::from(auto_lock) * 60),
            sync_every_minutes,
            use_keychain: !get("CJG_KEYCHAIN").is_some_and(|v| v.trim().eq_ignore_ascii_case("off")),
            data_dir: non_empty("CJG_APP_DATA_DIR").map(PathBuf::from),
            server_url: non_empty("CJG_SERVER_URL"),
            export_dir: non_empty("CJG_EXPORT_DIR").map(PathBuf::from),
            ca_file: non_empty("CJG_CA_FILE").map(PathBuf::from),
            browser: non_empty("CJG_BROWSER"),
            warnings,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn with(pairs: &[(&str, &str)]) -> ShellSettings {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
        ShellSettings::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn nothing_set_gives_the_defaults() {
        let s = with(&[]);
        assert_eq!(s.auto_lock, Duration::from_secs(u64::from(DEFAULT_AUTO_LOCK_MINUTES) * 60));
        assert_eq!(s.sync_every_minutes, DEFAULT_SYNC_MINUTES);
        assert!(s.use_keychain);
        assert_eq!((s.data_dir, s.server_url, s.export_dir), (None, None, None));
        assert!(s.warnings.is_empty());
    }

    #[test]
    fn values_in_range_are_taken() {
        let s = with(&[
            ("CJG_AUTO_LOCK_MINUTES", " 60 "),
            ("CJG_SYNC_MINUTES", "0"),
            ("CJG_KEYCHAIN", "OFF"),
            ("CJG_APP_DATA_DIR", "/tmp/cjg"),
            ("CJG_SERVER_URL", "http://127.0.0.1:8470"),
        ]);
        assert_eq!(s.auto_lock, Duration::from_secs(3600));
        assert_eq!(s.sync_every_minutes, 0);
        assert!(!s.use_keychain);
        assert_eq!(s.data_dir, Some(PathBuf::from("/tmp/cjg")));
        assert_eq!(s.server_url.as_deref(), Some("http://127.0.0.1:8470"));
        assert!(s.warnings.is_empty());
    }

    #[test]
    fn values_out_of_range_keep_the_default_and_say_so() {
        for (name, bad) in [
            ("CJG_AUTO_LOCK_MINUTES", "0"),
            ("CJG_AUTO_LOCK_MINUTES", "61"),
            ("CJG_AUTO_LOCK_MINUTES", "-5"),
            ("CJG_AUTO_LOCK_MINUTES", "vijf"),
            ("CJG_SYNC_MINUTES", "61"),
            ("CJG_SYNC_MINUTES", ""),
        ] {
            let s = with(&[(name, bad)]);
            assert_eq!(s, ShellSettings { warnings: s.warnings.clone(), ..with(&[]) }, "{name}={bad}");
            assert_eq!(s.warnings.len(), 1, "{name}={bad}");
            assert!(s.warnings[0].contains(name));
        }
        assert!(with(&[("CJG_KEYCHAIN", "no")]).use_keychain, "only 'off' turns the keychain off");
    }
}
