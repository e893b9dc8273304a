//! Plaid items: a tenant's bank connections made through Link, their status and sync cursor.
//!
//! Invariant: an item's access token is never a field here; it is the tenant secret
//! [`token_secret_name`], encrypted by the keyring. The cursor is internal (never serialized).

mod store;

use serde::Serialize;

use crate::domain::time::Timestamp;
pub use crate::domain::PlaidItemId;
use crate::domain::TenantId;

pub use store::PlaidStore;

/// Where an item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    /// Syncing normally.
    Active,
    /// The bank needs the owner to log in again through Link (`ITEM_LOGIN_REQUIRED` and kin).
    LoginRequired,
    /// The last sync failed in a way retries may fix, or that needs an operator.
    Error,
    /// Removed at Plaid; its transactions stay in the ledger.
    Removed,
}

impl ItemStatus {
    pub const ALL: [ItemStatus; 4] = [
        ItemStatus::Active,
        ItemStatus::LoginRequired,
        ItemStatus::Error,
        ItemStatus::Removed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ItemStatus::Active => "active",
            ItemStatus::LoginRequired => "login_required",
            ItemStatus::Error => "error",
            ItemStatus::Removed => "removed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == s)
    }
}

/// A stored item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PlaidItem {
    pub id: PlaidItemId,
    #[schema(value_type = String, format = Uuid)]
    pub tenant_id: TenantId,
    /// Plaid's item id.
    pub item_id: String,
    pub institution: Option<String>,
    pub status: ItemStatus,
    /// Plaid's `error_code` of the last failure, cleared by a successful sync.
    pub last_error_code: Option<String>,
    #[serde(skip)]
    pub cursor: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_sync_at: Option<Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// The tenant-secret name holding an item's access token.
pub fn token_secret_name(id: PlaidItemId) -> String {
    format!("plaid:access:{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_and_the_cursor_is_never_serialized() {
        for status in ItemStatus::ALL {
            assert_eq!(ItemStatus::parse(status.as_str()), Some(status));
        }
        let item = PlaidItem {
            id: PlaidItemId::new(),
            tenant_id: TenantId::new(),
            item_id: "item-1".into(),
            institution: None,
            status: ItemStatus::LoginRequired,
            last_error_code: Some("ITEM_LOGIN_REQUIRED".into()),
            cursor: Some("secret-ish-cursor".into()),
            last_sync_at: None,
            created_at: crate::domain::time::now(),
        };
        let json = serde_json::to_string(&item).unwrap();
        assert!(!json.contains("cursor"), "{json}");
        assert!(json.contains("\"status\":\"login_required\""), "{json}");
    }
}
