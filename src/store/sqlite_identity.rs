//! Identity storage on sqlite. Placeholder bodies until the implementation lands.

use async_trait::async_trait;

use super::SqliteStore;
use super::{IdentityStore, Scope};
use crate::domain::time::Timestamp;
use crate::domain::{ApiKeyId, SessionId, TenantId, UserId};
use crate::error::{Error, Result};
use crate::identity::{
    ApiKey, ApiKeyAuth, LoginRecord, NewApiKey, NewSession, NewUser, RefreshOutcome, Session,
    SessionState, Throttle, TotpRecord, User, UserPatch,
};
use crate::tenants::{NewTenant, Tenant};

fn pending<T>() -> Result<T> {
    Err(Error::Unavailable(
        "identity storage is not implemented yet".into(),
    ))
}

#[async_trait]
impl IdentityStore for SqliteStore {
    async fn any_user(&self) -> Result<bool> {
        pending()
    }

    async fn insert_user(&self, _user: &NewUser) -> Result<User> {
        pending()
    }

    async fn login_record(&self, _email_key: &str) -> Result<Option<LoginRecord>> {
        pending()
    }

    async fn get_user(&self, _scope: Scope, _id: UserId) -> Result<Option<User>> {
        pending()
    }

    async fn password_hash(
        &self,
        _scope: Scope,
        _id: UserId,
    ) -> Result<Option<crate::secret::SecretString>> {
        pending()
    }

    async fn list_users(
        &self,
        _tenant: TenantId,
        _after: Option<UserId>,
        _limit: u32,
    ) -> Result<Vec<User>> {
        pending()
    }

    async fn update_user(
        &self,
        _scope: Scope,
        _id: UserId,
        _patch: &UserPatch,
    ) -> Result<Option<User>> {
        pending()
    }

    async fn delete_user(&self, _scope: Scope, _id: UserId) -> Result<bool> {
        pending()
    }

    async fn set_password_hash(
        &self,
        _scope: Scope,
        _id: UserId,
        _hash: &crate::secret::SecretString,
    ) -> Result<()> {
        pending()
    }

    async fn record_login(&self, _scope: Scope, _id: UserId, _at: Timestamp) -> Result<()> {
        pending()
    }

    async fn login_throttle(&self, _email_key: &str) -> Result<Option<Throttle>> {
        pending()
    }

    async fn put_login_throttle(
        &self,
        _email_key: &str,
        _throttle: &Throttle,
        _at: Timestamp,
    ) -> Result<()> {
        pending()
    }

    async fn clear_login_throttle(&self, _email_key: &str) -> Result<bool> {
        pending()
    }

    async fn put_totp_secret(
        &self,
        _scope: Scope,
        _user: UserId,
        _key_tenant: TenantId,
        _ciphertext: &[u8],
        _at: Timestamp,
    ) -> Result<bool> {
        pending()
    }

    async fn totp_secret(&self, _scope: Scope, _user: UserId) -> Result<Option<TotpRecord>> {
        pending()
    }

    async fn use_totp_step(&self, _scope: Scope, _user: UserId, _step: u64) -> Result<bool> {
        pending()
    }

    async fn enable_totp(
        &self,
        _scope: Scope,
        _user: UserId,
        _recovery_hashes: &[[u8; 32]],
    ) -> Result<()> {
        pending()
    }

    async fn disable_totp(&self, _scope: Scope, _user: UserId) -> Result<()> {
        pending()
    }

    async fn use_recovery_code(
        &self,
        _scope: Scope,
        _user: UserId,
        _hash: &[u8; 32],
        _at: Timestamp,
    ) -> Result<bool> {
        pending()
    }

    async fn insert_session(&self, _session: &NewSession, _refresh_hash: &[u8; 32]) -> Result<()> {
        pending()
    }

    async fn session_state(&self, _id: SessionId) -> Result<Option<SessionState>> {
        pending()
    }

    async fn touch_session(&self, _id: SessionId, _at: Timestamp) -> Result<()> {
        pending()
    }

    async fn list_sessions(&self, _scope: Scope, _user: UserId) -> Result<Vec<Session>> {
        pending()
    }

    async fn end_session(
        &self,
        _scope: Scope,
        _user: UserId,
        _id: SessionId,
        _reason: &str,
        _at: Timestamp,
    ) -> Result<bool> {
        pending()
    }

    async fn end_user_sessions(
        &self,
        _scope: Scope,
        _user: UserId,
        _except: Option<SessionId>,
        _reason: &str,
        _at: Timestamp,
    ) -> Result<Vec<SessionId>> {
        pending()
    }

    async fn rotate_refresh(
        &self,
        _presented: &[u8; 32],
        _new_hash: &[u8; 32],
        _at: Timestamp,
    ) -> Result<RefreshOutcome> {
        pending()
    }

    async fn insert_api_key(&self, _key: &NewApiKey) -> Result<ApiKey> {
        pending()
    }

    async fn list_api_keys(&self, _tenant: TenantId) -> Result<Vec<ApiKey>> {
        pending()
    }

    async fn revoke_api_key(
        &self,
        _tenant: TenantId,
        _id: ApiKeyId,
        _at: Timestamp,
    ) -> Result<bool> {
        pending()
    }

    async fn api_key_by_public_id(&self, _public_id: &str) -> Result<Option<ApiKeyAuth>> {
        pending()
    }

    async fn touch_api_key(&self, _id: ApiKeyId, _at: Timestamp) -> Result<()> {
        pending()
    }

    async fn tenant_requires_totp(&self, _tenant: TenantId) -> Result<bool> {
        pending()
    }

    async fn set_tenant_requires_totp(&self, _tenant: TenantId, _required: bool) -> Result<()> {
        pending()
    }

    async fn replace_setup_token(
        &self,
        _hash: &[u8; 32],
        _created_at: Timestamp,
        _expires_at: Timestamp,
    ) -> Result<()> {
        pending()
    }

    async fn complete_setup(
        &self,
        _hash: &[u8; 32],
        _at: Timestamp,
        _tenant: &NewTenant,
        _user: &NewUser,
    ) -> Result<Option<(Tenant, User)>> {
        pending()
    }
}
