//! Detection's HTTP surface: the anomaly queue and its reviews, the configuration with its
//! change record and models, snoozes, back-tests, Benford findings.
//!
//! Invariant: every handler opens detection through [`open`], which checks the permission and
//! fixes the caller's own tenant; nothing here takes a tenant from the request.

pub mod anomalies;
pub mod backtest;
pub mod config;
pub mod findings;
pub mod snoozes;

use std::sync::Arc;

use crate::auth::{Permission, Principal, Scoped};
use crate::crypto::Keyring;
use crate::domain::TenantId;
use crate::error::{Error, Result};
use crate::events::Events;
use crate::jobs::JobStore;
use crate::ledger::Ledger;
use crate::store::IdentityStore;

use super::Detector;

/// What the detection routes need.
#[derive(Clone)]
pub struct DetectState {
    pub detector: Arc<Detector>,
    pub ledger: Arc<Ledger>,
    pub keyring: Arc<Keyring>,
    pub jobs: Arc<dyn JobStore>,
    pub events: Arc<Events>,
    /// To check that an assignee is one of the tenant's users.
    pub users: Arc<dyn IdentityStore>,
}

/// Detection opened for the caller's tenant with `permission` checked.
pub fn open(
    state: &DetectState,
    principal: &Principal,
    permission: Permission,
) -> Result<(Scoped<Detector>, TenantId)> {
    let handle = Scoped::open_tenant(principal, permission, state.detector.clone())?;
    let tenant = handle.tenant().ok_or(Error::Forbidden)?;
    Ok((handle, tenant))
}
