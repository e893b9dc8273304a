//! Accounts managed by a tenant's administrators (`/api/v1/users`), and the one way an account is
//! created, shared with the CLI.

mod create;
mod model;
pub mod routes;

pub use create::{create_user, UserDraft, DUPLICATE_EMAIL};
pub use model::{
    check_account, check_email, parse_role, role_name, CreateUser, UpdateUser, UserPage,
    MAX_DISPLAY_NAME_CHARS,
};
pub use routes::sessions::{UserSession, UserSessions};
