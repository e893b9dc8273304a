//! Creating an account: the one path shared by `POST /api/v1/users` and `auditpulse user create`.
//!
//! Invariant: no account is stored without passing the e-mail, display-name and password checks,
//! and only the Argon2id hash of the password is stored. A duplicate e-mail is a `Conflict` that
//! says so, whatever the backend's constraint message.

use super::model::{check_account, check_display_name};
use crate::auth::Role;
use crate::domain::{time, TenantId, UserId};
use crate::error::{Error, Result};
use crate::identity::credentials::password::PasswordHasher;
use crate::identity::store::IdentityStore;
use crate::identity::{NewUser, User};
use crate::secret::SecretString;

pub const DUPLICATE_EMAIL: &str = "a user with this e-mail already exists";

/// An account to create, before checks and hashing.
#[derive(Debug)]
pub struct UserDraft {
    pub email: String,
    pub password: SecretString,
    pub display_name: Option<String>,
    /// `None` only for a global system administrator.
    pub tenant: Option<TenantId>,
    /// Set exactly when `tenant` is.
    pub role: Option<Role>,
    pub system_admin: bool,
}

/// Checks, hashes and stores `draft`. `Validation` names each field that breaks a rule.
pub async fn create_user(
    store: &dyn IdentityStore,
    hasher: &PasswordHasher,
    draft: UserDraft,
) -> Result<User> {
    let errors = check_account(
        &draft.email,
        draft.password.expose(),
        draft.display_name.as_deref(),
    );
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    if draft.tenant.is_some() != draft.role.is_some()
        || !(draft.tenant.is_some() || draft.system_admin)
    {
        return Err(Error::BadRequest(
            "an account needs a tenant and a role, or to be a system administrator".into(),
        ));
    }
    let password_hash = SecretString::new(hasher.hash(&draft.password).await?);
    let user = NewUser {
        id: UserId::new(),
        tenant_id: draft.tenant,
        email: draft.email.trim().to_owned(),
        display_name: draft
            .display_name
            .as_deref()
            .and_then(|n| check_display_name(n).ok()),
        role: draft.role,
        system_admin: draft.system_admin,
        password_hash,
        created_at: time::now(),
    };
    store.insert_user(&user).await.map_err(|e| match e {
        Error::Conflict(_) => Error::Conflict(DUPLICATE_EMAIL.into()),
        other => other,
    })
}
