//! First-run setup: the one-time token printed at start, the page and the API that create the
//! first tenant and its administrator.

mod page;
pub mod routes;
pub use routes::{issue_token, url};
