use thiserror::Error;

/// What can go wrong with the local store. No variant carries row content: these end up in logs.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("no local store exists yet")]
    NotFound,
    #[error("a local store already exists")]
    AlreadyExists,
    #[error("the PIN does not open this store ({attempts_left} attempts left)")]
    WrongPin { attempts_left: u32 },
    #[error("the store has no matching unlock key; use the PIN")]
    NoUnlockKey,
    #[error("too many wrong PINs: the store has been wiped")]
    WipedAfterWrongPins,
    /// A sealed row failed authentication: changed on disk, moved, or from another store.
    #[error("row {id} of {table} has been tampered with")]
    Tampered { table: &'static str, id: String },
    #[error("the store header is damaged: {0}")]
    Corrupt(&'static str),
    #[error("the store was made by a newer version of the app")]
    NewerSchema,
    #[error("the page does not start at the store's cursor")]
    CursorMismatch,
    #[error("the sync page is inconsistent: {0}")]
    BadPage(#[from] cjg_core::api::PageError),
    /// The access log sent does not extend the one verified before; nothing was stored.
    #[error("the audit log does not verify: {0}")]
    AuditChain(cjg_crypto::chain::ChainError),
    #[error("no pinned audit key; the server's checkpoints cannot be checked")]
    NoAuditKey,
    #[error("injected failure")]
    Injected,
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    #[error("crypto error: {0}")]
    Crypto(#[from] cjg_crypto::CryptoError),
    #[error("encoding error: {0}")]
    Json(#[from] serde_json::Error),
    #[error("file error: {0}")]
    Io(#[from] std::io::Error),
}

pub type Result<T> = std::result::Result<T, StoreError>;
