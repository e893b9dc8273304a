//! What every handler can reach, and the storage wiring: the [`Store`] every backend provides
//! (each capability's storage trait) and [`connect`], which opens the configured one. Cheap to
//! clone: every field is shared.
//!
//! Invariant: the one place that names every capability's storage together; `crate::store` knows
//! none of them.

use std::sync::Arc;

use super::ClientIp;
use crate::audit::AuditLog;
use crate::audit::AuditStore;
use crate::auth::password::PasswordHasher;
use crate::auth::{Authenticator, Principal};
use crate::config::Config;
use crate::config::DatabaseUrl;
use crate::crypto::Keyring;
use crate::crypto::{KeyStore, SecretStore};
use crate::domain::TenantId;
use crate::error::Result;
use crate::events::Events;
use crate::events::{SecurityEvent, SecurityEventKind};
use crate::identity::{AccessTokens, SessionCache};
use crate::metrics::Metrics;
use crate::ratelimit::RateLimiter;
use crate::security::MonitorStore;
use crate::store::{IdentityStore, PgStore, SchemaStore, SqliteStore};
use crate::tenants::TenantStore;

/// Everything a backend provides.
pub trait Store:
    SchemaStore + TenantStore + KeyStore + SecretStore + MonitorStore + AuditStore + IdentityStore
{
}
impl<T> Store for T where
    T: SchemaStore
        + TenantStore
        + KeyStore
        + SecretStore
        + MonitorStore
        + AuditStore
        + IdentityStore
{
}

/// Connects to the configured database. Does not migrate.
pub async fn connect(url: &DatabaseUrl, max_connections: u32) -> Result<Arc<dyn Store>> {
    Ok(match url {
        DatabaseUrl::Sqlite(url) => Arc::new(SqliteStore::connect(url, max_connections).await?),
        DatabaseUrl::Postgres(url) => {
            Arc::new(PgStore::connect(url.expose(), max_connections).await?)
        }
    })
}

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Arc<dyn Store>,
    /// Field encryption with per-tenant data keys; the one way to read or write sensitive fields.
    pub keyring: Arc<Keyring>,
    pub authenticator: Arc<dyn Authenticator>,
    /// Signs and verifies access tokens (keys derived from the master keys).
    pub tokens: Arc<AccessTokens>,
    /// Session states read by the authenticator, trusted for a second; evicted when sessions end.
    pub sessions: Arc<SessionCache>,
    /// Argon2id hashing on the blocking pool, a few at a time, so a login flood cannot starve
    /// the async workers.
    pub passwords: Arc<PasswordHasher>,
    pub limiter: Arc<RateLimiter>,
    pub events: Arc<Events>,
    pub metrics: Arc<Metrics>,
    /// The audit trail's writer.
    pub audit: AuditLog,
}

impl AppState {
    /// Records an administrative change made by `principal` through the one event interface
    /// (audit trail, metrics, logs).
    pub fn admin_action(
        &self,
        principal: &Principal,
        ip: ClientIp,
        action: &'static str,
        target: Option<(&'static str, String)>,
        tenant: Option<TenantId>,
        details: serde_json::Value,
    ) {
        self.events.emit(SecurityEvent {
            kind: SecurityEventKind::AdminAction {
                action,
                target,
                tenant,
                details,
            },
            at: crate::domain::time::now(),
            ip: Some(ip.0),
            principal: Some(principal.id.clone()),
            route: None,
        });
    }
}
