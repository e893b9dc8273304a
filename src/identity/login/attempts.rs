//! Password (and second factor) attempts under the lockout rules: the stored side of
//! [`crate::identity::login::lockout`], shared by login, password change and turning TOTP off.
//!
//! Invariant: a locked e-mail is refused before any password is hashed; every failure is counted
//! against the e-mail key (known account or not) and reported as `LoginFailed`, and the failure
//! that locks is reported as `AccountLocked`.

use crate::domain::time;
use crate::error::{Error, Result};
use crate::events::SecurityEventKind;
use crate::identity::login::lockout;
use crate::identity::request::emit;
use crate::identity::IdentityState;
use crate::identity::{Throttle, User};
use crate::web::ClientIp;

/// One attempt on the account behind `email_key`.
pub struct Attempt<'a> {
    pub state: &'a IdentityState,
    pub ip: ClientIp,
    pub route: &'static str,
    /// The principal making it, when already authenticated (password change, TOTP off).
    pub principal: Option<String>,
    pub email: &'a str,
    pub email_key: String,
    throttle: Option<Throttle>,
}

impl<'a> Attempt<'a> {
    /// Starts an attempt; `AccountLocked` (429 with `Retry-After`) while the e-mail is locked.
    pub async fn begin(
        state: &'a IdentityState,
        ip: ClientIp,
        route: &'static str,
        principal: Option<String>,
        email: &'a str,
    ) -> Result<Attempt<'a>> {
        let email_key = crate::identity::email_key(email);
        let throttle = state.store.login_throttle(&email_key).await?;
        if let Some(retry_after) = lockout::locked_for(throttle.as_ref(), time::now()) {
            return Err(Error::AccountLocked { retry_after });
        }
        Ok(Self {
            state,
            ip,
            route,
            principal,
            email,
            email_key,
            throttle,
        })
    }

    /// Counts a failure of this attempt (on `user`'s account when it exists) and answers
    /// `invalid_credentials`.
    pub async fn failed(self, user: Option<&User>) -> Error {
        match self.record_failure(user).await {
            Ok(()) => Error::InvalidCredentials,
            Err(error) => error,
        }
    }

    async fn record_failure(&self, user: Option<&User>) -> Result<()> {
        let now = time::now();
        let (next, locked) = lockout::record_failure(self.throttle.as_ref(), now);
        self.state
            .store
            .put_login_throttle(&self.email_key, &next, now)
            .await?;
        let account = user.map_or_else(|| crate::mask::email(self.email), |u| u.id.to_string());
        let tenant = user.and_then(|u| u.tenant_id);
        let failed = SecurityEventKind::LoginFailed {
            account: account.clone(),
            tenant,
        };
        emit(
            self.state,
            self.ip,
            self.principal.clone(),
            self.route,
            failed,
        );
        if let Some(period) = locked {
            let kind = SecurityEventKind::AccountLocked {
                user: account,
                tenant,
                for_secs: period.as_secs(),
            };
            emit(
                self.state,
                self.ip,
                self.principal.clone(),
                self.route,
                kind,
            );
        }
        Ok(())
    }

    /// The attempt succeeded: failures so far are forgotten.
    pub async fn succeeded(&self) -> Result<()> {
        if self.throttle.is_some() {
            self.state
                .store
                .clear_login_throttle(&self.email_key)
                .await?;
        }
        Ok(())
    }
}
