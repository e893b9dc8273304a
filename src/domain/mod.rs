//! Value types shared by every capability: opaque ids, UTC time, money in minor units.

mod ids;
mod money;
pub(crate) mod names;
pub mod time;

pub use ids::{
    AccountId, AnomalyId, ApiKeyId, BudgetId, CaseEventId, ImportId, JobId, LlmCallId, ModelId,
    PlaidItemId, ProviderKeyId, SessionId, SnoozeId, SpendId, TenantId, UserId, VendorId,
};
pub use money::{Currency, Money};
