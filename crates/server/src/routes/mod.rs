pub mod client;
pub mod operations;
pub mod staff;
