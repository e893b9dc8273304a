//! The ledger's values: accounts, spend events as written and as read, what a write changes.
//!
//! Invariant: amounts are integer minor units of their currency, positive = money out; times are
//! UTC with the bank's own date kept beside them; full account numbers and free text only ever
//! leave the ledger decrypted into these types, and account numbers only as a mask.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::domain::names::text_enum;
use crate::domain::{AccountId, Currency, Money, SpendId};
use crate::secret::SecretString;

text_enum!(
    /// Where a spend event came from.
    Source { Plaid = "plaid", Ofx = "ofx", Csv = "csv", Gateway = "gateway", Otlp = "otlp" }
);

impl Source {
    /// Bank spend (Plaid, bank files), as opposed to LLM spend (gateway, OTLP).
    pub fn is_bank(self) -> bool {
        matches!(self, Source::Plaid | Source::Ofx | Source::Csv)
    }
}

text_enum!(
    /// `pending` until the bank posts it.
    SpendStatus { Pending = "pending", Posted = "posted" }
);

text_enum!(
    /// The kind of bank account.
    AccountKind {
        Checking = "checking",
        Savings = "savings",
        CreditCard = "credit_card",
        Loan = "loan",
        Investment = "investment",
        Other = "other",
    }
);

text_enum!(
    /// How an account came to the ledger.
    AccountOrigin { Manual = "manual", Plaid = "plaid" }
);

/// An account to create. `number` is the full number, stored encrypted; `mask` is derived from
/// it when not given.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub name: String,
    pub kind: AccountKind,
    pub currency: Currency,
    pub number: Option<SecretString>,
    pub mask: Option<String>,
    pub institution: Option<String>,
    pub origin: AccountOrigin,
    /// The source's own id (Plaid `account_id`), unique per tenant and origin.
    pub external_id: Option<String>,
}

/// An account as the API shows it: never the full number.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Account {
    pub id: AccountId,
    pub name: String,
    pub kind: AccountKind,
    #[schema(value_type = String, example = "USD")]
    pub currency: Currency,
    /// The last four digits as `****1234`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mask: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub institution: Option<String>,
    pub origin: AccountOrigin,
    pub created_at: DateTime<Utc>,
}

/// A spend event to write. Free text is plaintext here; the ledger seals it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSpend {
    pub source: Source,
    /// Unique per tenant and source: the same reference is the same event.
    pub source_ref: String,
    pub account: Option<AccountId>,
    pub occurred_at: DateTime<Utc>,
    pub booked_on: NaiveDate,
    pub amount: Money,
    pub status: SpendStatus,
    pub counterparty: Option<String>,
    pub category: Option<String>,
    pub description: Option<String>,
    /// The reference of a pending event this one takes over (Plaid `pending_transaction_id`):
    /// the pending row becomes this one, so a charge that posts stays one event.
    pub replaces: Option<String>,
}

/// A set of changes from one source applied together.
#[derive(Debug, Clone)]
pub struct Changes {
    pub source: Source,
    /// Written, or updated in place when the reference exists.
    pub upserts: Vec<NewSpend>,
    /// References no longer at the source; their events are marked removed, not deleted.
    pub removals: Vec<String>,
}

/// What a write did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct WriteReport {
    pub inserted: u64,
    pub updated: u64,
    /// Already in the ledger (an import of rows seen before): left as they were.
    pub duplicates: u64,
    pub removed: u64,
}

impl WriteReport {
    pub fn add(&mut self, other: WriteReport) {
        self.inserted += other.inserted;
        self.updated += other.updated;
        self.duplicates += other.duplicates;
        self.removed += other.removed;
    }
}

/// A spend event as read, decrypted.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SpendEvent {
    pub id: SpendId,
    pub source: Source,
    pub source_ref: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<AccountId>,
    pub occurred_at: DateTime<Utc>,
    /// The date as the bank states it.
    #[schema(value_type = String, format = Date)]
    pub booked_on: NaiveDate,
    /// Minor units of `currency`, positive = money out.
    pub amount_minor: i64,
    /// The same amount as decimal text in major units, e.g. `"12.34"`.
    pub amount: String,
    #[schema(value_type = String, example = "USD")]
    pub currency: Currency,
    pub status: SpendStatus,
    /// The counterparty as given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counterparty: Option<String>,
    /// The normalised counterparty that groups a vendor's payments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counterparty_normalized: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `****1234`: the last four characters of an account number, nothing else.
pub fn mask_number(number: &str) -> Option<String> {
    let digits: Vec<char> = number
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    if digits.is_empty() {
        return None;
    }
    let tail: String = digits[digits.len().saturating_sub(4)..].iter().collect();
    Some(format!("****{tail}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_show_only_the_last_four() {
        assert_eq!(
            mask_number("DE89 3704 0044 0532 0130 00").as_deref(),
            Some("****3000")
        );
        assert_eq!(mask_number("12").as_deref(), Some("****12"));
        assert_eq!(mask_number(" - ").as_deref(), None);
    }

    #[test]
    fn enums_round_trip_as_text() {
        for s in Source::ALL {
            assert_eq!(Source::parse(s.as_str()), Some(*s));
        }
        assert_eq!(
            AccountKind::parse("credit_card"),
            Some(AccountKind::CreditCard)
        );
        assert_eq!(SpendStatus::parse("cleared"), None);
    }
}
