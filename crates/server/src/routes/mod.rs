pub mod client;
pub mod staff;
