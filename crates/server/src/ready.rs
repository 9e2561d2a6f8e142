//! The ready file: what a started server tells the program that started it (the tests, the
//! demo script), as JSON, so nobody parses the Dutch lines printed for people.

use std::path::Path;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Written once the server listens (and, with `--demo`, has seeded its demo data).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ready {
    /// `http://address:port` the server listens on.
    pub url: String,
    /// The demo's activation codes and accounts; empty without `--demo`.
    pub demo_codes: Vec<ReadyCode>,
    pub demo_accounts: Vec<ReadyAccount>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReadyCode {
    pub person_id: Uuid,
    pub name: String,
    /// `ouder`, `opvoeder` or `jongere`.
    pub role: String,
    pub code: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReadyAccount {
    pub username: String,
    pub password: String,
    pub role: String,
}

impl Ready {
    /// Written beside and renamed into place: a reader never sees half a file.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let tmp = path.with_extension("part");
        std::fs::write(&tmp, serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?)?;
        std::fs::rename(&tmp, path)
    }
}
