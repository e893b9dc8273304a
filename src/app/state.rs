//! What every handler can reach, and the storage wiring: the [`Store`] every backend provides
//! (each capability's storage trait) and [`connect`], which opens the configured one. Cheap to
//! clone: every field is shared.
//!
//! Invariant: the one place that names every capability's storage together; `crate::store` knows
//! none of them.

use std::sync::Arc;

use axum::extract::FromRef;

use super::Tasks;
use crate::audit::routes::AuditState;
use crate::audit::AuditLog;
use crate::audit::AuditStore;
use crate::auth::Gate;
use crate::auth::{Authenticator, Principal};
use crate::budgets::store::BudgetStore;
use crate::config::Config;
use crate::config::DatabaseUrl;
use crate::crypto::CryptoStore;
use crate::crypto::Keyring;
use crate::detect::store::DetectStore;
use crate::domain::TenantId;
use crate::error::Result;
use crate::events::Events;
use crate::gateway::calls::CallStore;
use crate::gateway::pricing::routes::PricesState;
use crate::gateway::pricing::{Overrides, PriceStore};
use crate::gateway::providers::routes::ProvidersState;
use crate::gateway::providers::{ProviderStore, Providers};
use crate::identity::credentials::password::PasswordHasher;
use crate::identity::{AccessTokens, IdentityState, SessionCache};
use crate::jobs::JobStore;
use crate::ledger::routes::LedgerState;
use crate::ledger::{Ledger, LedgerStore};
use crate::metrics::Metrics;
use crate::plaid::PlaidStore;
use crate::ratelimit::{Limits, RateLimiter};
use crate::security::routes::SecurityState;
use crate::security::MonitorStore;
use crate::store::{IdentityStore, PgStore, SchemaStore, SqliteStore};
use crate::tenants::routes::TenantsState;
use crate::tenants::TenantStore;
use crate::web::ClientIp;

/// Everything a backend provides.
pub trait Store:
    SchemaStore
    + TenantStore
    + CryptoStore
    + MonitorStore
    + AuditStore
    + IdentityStore
    + JobStore
    + PlaidStore
    + LedgerStore
    + DetectStore
    + CallStore
    + ProviderStore
    + PriceStore
    + BudgetStore
{
}
impl<T> Store for T where
    T: SchemaStore
        + TenantStore
        + CryptoStore
        + MonitorStore
        + AuditStore
        + IdentityStore
        + JobStore
        + PlaidStore
        + LedgerStore
        + DetectStore
        + CallStore
        + ProviderStore
        + PriceStore
        + BudgetStore
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
    /// The background tasks, for `/readyz`.
    pub tasks: Tasks,
    /// Bank and LLM spend: accounts, spend events, vendors, imports.
    pub ledger: Arc<Ledger>,
    /// Detection: scoring, models, the anomaly queue.
    pub detector: Arc<crate::detect::Detector>,
    /// Plaid, when configured.
    pub plaid: Option<Arc<crate::plaid::Plaid>>,
    /// The tenants' LLM provider keys, and the look-up the gateway makes per call.
    pub providers: Arc<Providers>,
    /// The LLM gateway: relay client, call recorder.
    pub gateway: Arc<crate::gateway::proxy::Gateway>,
    /// OTLP trace ingest.
    pub otlp: Arc<crate::otlp::Otlp>,
    /// The LLM price catalog in force, with tenants' overrides.
    pub prices: Arc<crate::gateway::prices::PriceBook>,
    /// Budgets: their storage, status and the gateway's checks.
    pub budgets: Arc<crate::budgets::Budgets>,
}

impl FromRef<AppState> for crate::budgets::routes::BudgetsState {
    fn from_ref(state: &AppState) -> Self {
        crate::budgets::routes::BudgetsState {
            budgets: state.budgets.clone(),
            events: state.events.clone(),
        }
    }
}

impl FromRef<AppState> for Arc<crate::otlp::Otlp> {
    fn from_ref(state: &AppState) -> Self {
        state.otlp.clone()
    }
}

impl FromRef<AppState> for Arc<crate::gateway::proxy::Gateway> {
    fn from_ref(state: &AppState) -> Self {
        state.gateway.clone()
    }
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
        self.events
            .admin_action(&principal.id, ip.0, action, target, tenant, details);
    }
}

impl FromRef<AppState> for SecurityState {
    fn from_ref(state: &AppState) -> Self {
        SecurityState {
            store: state.store.clone(),
        }
    }
}

impl FromRef<AppState> for LedgerState {
    fn from_ref(state: &AppState) -> Self {
        LedgerState {
            ledger: state.ledger.clone(),
            events: state.events.clone(),
            import_max_bytes: state.config.imports.max_bytes,
            import_max_rows: state.config.imports.max_rows,
            spool_dir: state.config.data_dir.clone(),
        }
    }
}

impl FromRef<AppState> for crate::plaid::routes::PlaidState {
    fn from_ref(state: &AppState) -> Self {
        crate::plaid::routes::PlaidState {
            plaid: state.plaid.clone(),
            events: state.events.clone(),
        }
    }
}

impl FromRef<AppState> for crate::detect::routes::DetectState {
    fn from_ref(state: &AppState) -> Self {
        crate::detect::routes::DetectState {
            detector: state.detector.clone(),
            ledger: state.ledger.clone(),
            keyring: state.keyring.clone(),
            jobs: state.store.clone(),
            events: state.events.clone(),
            users: state.store.clone(),
        }
    }
}

impl FromRef<AppState> for crate::gateway::calls::routes::CallsState {
    fn from_ref(state: &AppState) -> Self {
        crate::gateway::calls::routes::CallsState {
            store: state.store.clone(),
        }
    }
}

impl FromRef<AppState> for ProvidersState {
    fn from_ref(state: &AppState) -> Self {
        ProvidersState {
            providers: state.providers.clone(),
            events: state.events.clone(),
        }
    }
}

impl FromRef<AppState> for PricesState {
    fn from_ref(state: &AppState) -> Self {
        PricesState {
            overrides: Overrides {
                store: state.store.clone(),
                book: state.prices.clone(),
            },
            events: state.events.clone(),
        }
    }
}

impl FromRef<AppState> for AuditState {
    fn from_ref(state: &AppState) -> Self {
        AuditState {
            store: state.store.clone(),
            audit: state.audit.clone(),
        }
    }
}

impl FromRef<AppState> for TenantsState {
    fn from_ref(state: &AppState) -> Self {
        TenantsState {
            store: state.store.clone(),
            users: state.store.clone(),
            events: state.events.clone(),
            sessions: state.sessions.clone(),
        }
    }
}

impl FromRef<AppState> for Limits {
    fn from_ref(state: &AppState) -> Self {
        Limits {
            limiter: state.limiter.clone(),
            events: state.events.clone(),
        }
    }
}

impl FromRef<AppState> for Gate {
    fn from_ref(state: &AppState) -> Self {
        Gate {
            authenticator: state.authenticator.clone(),
            limits: Limits::from_ref(state),
        }
    }
}

impl FromRef<AppState> for IdentityState {
    fn from_ref(state: &AppState) -> Self {
        IdentityState {
            store: state.store.clone(),
            config: state.config.clone(),
            tokens: state.tokens.clone(),
            sessions: state.sessions.clone(),
            passwords: state.passwords.clone(),
            events: state.events.clone(),
            keyring: state.keyring.clone(),
            limits: Limits::from_ref(state),
        }
    }
}
