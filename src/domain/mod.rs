//! Value types shared by every capability: opaque ids, UTC time, money in minor units.

mod ids;
mod money;
pub mod time;

pub use ids::{
    AccountId, ApiKeyId, ImportId, JobId, PlaidItemId, SessionId, SpendId, TenantId, UserId,
    VendorId,
};
pub use money::{Currency, Money};
