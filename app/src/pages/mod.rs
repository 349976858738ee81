//! One module per page of the app.

pub mod admin;
pub mod costs;
pub mod home;
pub mod label;
pub mod lists;
pub mod meters;
pub mod not_found;
pub mod notice_settings;
pub mod orders;
pub mod review;
pub mod rounds;
pub mod samples;
pub mod settings;
pub mod sign_in;
pub mod stock;

/// Rows a list shows on the to-do page before "see all".
pub const COMPACT_ROWS: usize = 3;
