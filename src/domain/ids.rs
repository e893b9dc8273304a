//! Opaque, time-ordered identifiers (UUIDv7), one type per kind of object so that a tenant id can
//! never be passed where a user id is expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        #[schema(value_type = String, format = Uuid)]
        pub struct $name(Uuid);

        impl $name {
            /// A new, unique id; ids created later sort after earlier ones.
            #[allow(clippy::new_without_default)]
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }

            pub fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// A tenant: one organisation whose data is isolated from every other.
    TenantId
);

id_type!(
    /// A user account (a person who logs in).
    UserId
);

id_type!(
    /// A login session: what a refresh token renews and an access token's `sid` names.
    SessionId
);

id_type!(
    /// An API key (a machine credential), as stored; its public id is separate.
    ApiKeyId
);

id_type!(
    /// A ledger account: a bank account from Plaid or declared for file import.
    AccountId
);

id_type!(
    /// One spend event in the ledger.
    SpendId
);

id_type!(
    /// An entry on a tenant's approved-vendor list.
    VendorId
);

id_type!(
    /// One bank-file import.
    ImportId
);

id_type!(
    /// One LLM call the gateway relayed (or an OTLP span described); also the gateway's request id.
    LlmCallId
);

id_type!(
    /// A durable background job.
    JobId
);

id_type!(
    /// A Plaid item (a tenant's bank connection) in AuditPulse; Plaid's own id is separate.
    PlaidItemId
);

id_type!(
    /// A transaction the detector flagged at or above the tenant's alert threshold: a review case.
    AnomalyId
);

id_type!(
    /// One entry in an anomaly's history (raised, reviewed, assigned).
    CaseEventId
);

id_type!(
    /// One trained isolation-forest model of a tenant (its version).
    ModelId
);

id_type!(
    /// A rule silenced for one vendor or account until a given time.
    SnoozeId
);

id_type!(
    /// A tenant's stored LLM provider key (the gateway's upstream credential for one provider).
    ProviderKeyId
);

id_type!(
    /// A tenant's budget: a scope, a period and an amount that spend is held to.
    BudgetId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_time_ordered_and_round_trip_as_text() {
        let a = TenantId::new();
        let b = TenantId::new();
        assert!(a < b);
        assert_eq!(a.to_string().parse::<TenantId>().unwrap(), a);
        assert_eq!(serde_json::to_string(&a).unwrap(), format!("\"{a}\""));
    }
}
