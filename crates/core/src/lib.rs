//! Domain types and rules of Mijn CJG. Pure: no IO, no clock reads, no randomness.
//! Everything here is unit tested without a database or a network.

pub mod api;
pub mod article;
pub mod audit;
pub mod entry;
pub mod feedback;
pub mod fhir;
pub mod indicators;
pub mod markdown;
pub mod message;
pub mod oidc;
pub mod policy;
pub mod questionnaire;
pub mod second_factor;
pub mod staff;
pub mod time;
pub mod usage;
pub mod validate;

pub use api::{ApiError, ErrorCode};
pub use entry::{Entry, EntryKind, Person, PersonRole};
