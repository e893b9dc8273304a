//! What every handler can reach. Cheap to clone: every field is shared.

use std::sync::Arc;

use crate::audit::AuditLog;
use crate::auth::Authenticator;
use crate::config::Config;
use crate::crypto::Keyring;
use crate::events::Events;
use crate::metrics::Metrics;
use crate::ratelimit::RateLimiter;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Arc<dyn Store>,
    /// Field encryption with per-tenant data keys; the one way to read or write sensitive fields.
    pub keyring: Arc<Keyring>,
    pub authenticator: Arc<dyn Authenticator>,
    pub limiter: Arc<RateLimiter>,
    pub events: Arc<Events>,
    pub metrics: Arc<Metrics>,
    /// The audit trail's writer.
    pub audit: AuditLog,
}
