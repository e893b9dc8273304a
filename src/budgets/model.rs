//! Budgets as people write them and as the API shows them: a scope, a period, an amount in a
//! currency, alert thresholds, and for LLM spend a swap threshold with a model chain and a hard
//! limit. [`BudgetInput`] is the body of `POST /api/v1/budgets` and what the YAML import makes;
//! [`BudgetInput::check`] turns it into a [`NewBudget`] or names every bad field.
//!
//! Invariant: amounts are decimal text parsed into integer minor units, thresholds decimal text
//! parsed into integer parts per ten thousand ([`Fraction`]); no float on either path.

use serde::{Deserialize, Deserializer, Serialize};

use crate::domain::time::Timestamp;
use crate::domain::{BudgetId, Currency};

pub use super::fraction::{Fraction, MAX_FRACTION};

/// Longest budget name.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest scope value (an application, project or user name, a key or account id, a vendor).
pub const MAX_SCOPE_VALUE_CHARS: usize = 256;
/// Most alert thresholds per budget.
pub const MAX_THRESHOLDS: usize = 10;
/// Most models in a chain.
pub const MAX_CHAIN: usize = 10;
/// Longest model name in a chain.
pub const MAX_MODEL_CHARS: usize = 256;
/// The thresholds a budget alerts at when none are given: 50 %, 80 %, 100 %.
pub const DEFAULT_THRESHOLDS: [Fraction; 3] = [Fraction(5_000), Fraction(8_000), Fraction(10_000)];

/// What a budget covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = BudgetScopeKind)]
pub enum ScopeKind {
    /// All of the tenant's spend (which spend: see [`Counts`]).
    Tenant,
    /// LLM calls attributed to an application.
    Application,
    /// LLM calls attributed to a project.
    Project,
    /// LLM calls attributed to an end user.
    User,
    /// LLM calls made with one API key (its id).
    ApiKey,
    /// Bank spend from one account (its id).
    Account,
    /// Bank spend paid to one vendor (its name, matched as normalised counterparty).
    Vendor,
    /// Bank spend in one category.
    Category,
}

impl ScopeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeKind::Tenant => "tenant",
            ScopeKind::Application => "application",
            ScopeKind::Project => "project",
            ScopeKind::User => "user",
            ScopeKind::ApiKey => "api_key",
            ScopeKind::Account => "account",
            ScopeKind::Vendor => "vendor",
            ScopeKind::Category => "category",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "tenant" => ScopeKind::Tenant,
            "application" => ScopeKind::Application,
            "project" => ScopeKind::Project,
            "user" => ScopeKind::User,
            "api_key" => ScopeKind::ApiKey,
            "account" => ScopeKind::Account,
            "vendor" => ScopeKind::Vendor,
            "category" => ScopeKind::Category,
            _ => return None,
        })
    }

    /// Scopes of LLM calls (attribution the gateway and OTLP record).
    pub fn is_llm(self) -> bool {
        matches!(
            self,
            ScopeKind::Application | ScopeKind::Project | ScopeKind::User | ScopeKind::ApiKey
        )
    }

    /// Scopes of bank spend.
    pub fn is_bank(self) -> bool {
        matches!(
            self,
            ScopeKind::Account | ScopeKind::Vendor | ScopeKind::Category
        )
    }
}

/// A scope: its kind and, for every kind but `tenant`, the value it matches.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = BudgetScope)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    pub kind: ScopeKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// Which spend a budget counts: LLM calls (gateway and OTLP), bank spend, or both. Fixed by the
/// scope except for `tenant`, where it defaults to `all`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = BudgetSpend)]
pub enum Counts {
    Llm,
    Bank,
    All,
}

impl Counts {
    pub fn as_str(self) -> &'static str {
        match self {
            Counts::Llm => "llm",
            Counts::Bank => "bank",
            Counts::All => "all",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "llm" => Counts::Llm,
            "bank" => Counts::Bank,
            "all" => Counts::All,
            _ => return None,
        })
    }

    pub fn has_llm(self) -> bool {
        matches!(self, Counts::Llm | Counts::All)
    }

    pub fn has_bank(self) -> bool {
        matches!(self, Counts::Bank | Counts::All)
    }
}

/// A budget's period, in the tenant's time zone; weeks start on Monday.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = BudgetPeriod)]
pub enum Period {
    Day,
    Week,
    Month,
}

impl Period {
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "day" => Period::Day,
            "week" => Period::Week,
            "month" => Period::Month,
            _ => return None,
        })
    }
}

/// The body of `POST /api/v1/budgets`, and what the YAML import builds for each rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = NewBudgetBody)]
#[serde(deny_unknown_fields)]
pub struct BudgetInput {
    /// 1 to 200 characters, unique in the tenant.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub scope: Scope,
    pub period: Period,
    /// Decimal text in major units of `currency`, e.g. `"1000.00"`.
    #[schema(example = "1000.00")]
    pub amount: String,
    /// ISO 4217 code; LLM spend is priced in USD, so a budget counting it must be in USD.
    #[schema(example = "USD")]
    pub currency: String,
    /// Fractions of the amount an alert is raised at, once per period; default 0.5, 0.8, 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<f64>>)]
    pub alert_thresholds: Option<Vec<Fraction>>,
    /// LLM spend only: above this fraction the gateway swaps each requested model for the next
    /// one of `model_chain`, or, without a chain of its own, of the chain of the narrowest other
    /// budget that covers the call (so a tenant-wide threshold moves every application down its
    /// own chain).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>, exclusive_minimum = 0, maximum = 10)]
    pub swap_threshold: Option<Fraction>,
    /// LLM spend only: models in order of preference (`primary`, `fallback`, `emergency`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_chain: Option<Vec<String>>,
    /// LLM spend only: `true` refuses gateway calls that could take spend past the amount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hard_limit: Option<bool>,
    /// Which spend counts (`llm`, `bank`, `all`): fixed by the scope, except for `tenant`
    /// (default `all`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spend: Option<Counts>,
}

/// The body of `PATCH /api/v1/budgets/{id}`: the fields to change. `null` clears an optional
/// field.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[schema(as = BudgetPatchBody)]
#[serde(deny_unknown_fields)]
pub struct BudgetPatch {
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    pub scope: Option<Scope>,
    pub period: Option<Period>,
    pub amount: Option<String>,
    pub currency: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Vec<f64>>)]
    pub alert_thresholds: Option<Option<Vec<Fraction>>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<f64>, exclusive_minimum = 0, maximum = 10)]
    pub swap_threshold: Option<Option<Fraction>>,
    #[serde(default, deserialize_with = "double_option")]
    pub model_chain: Option<Option<Vec<String>>>,
    pub hard_limit: Option<bool>,
    pub spend: Option<Counts>,
}

/// Absent stays `None`; `null` becomes `Some(None)`.
fn double_option<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A checked budget, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBudget {
    pub name: String,
    pub scope: Scope,
    pub counts: Counts,
    pub period: Period,
    /// Minor units of `currency`.
    pub amount_minor: i64,
    pub currency: Currency,
    /// Ascending, without repeats.
    pub alert_thresholds: Vec<Fraction>,
    pub swap_threshold: Option<Fraction>,
    pub model_chain: Vec<String>,
    pub hard_limit: bool,
}

/// A budget as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Budget {
    pub id: BudgetId,
    pub name: String,
    pub scope: Scope,
    pub spend: Counts,
    pub period: Period,
    /// Decimal text in major units.
    pub amount: String,
    pub currency: String,
    #[schema(value_type = Vec<f64>)]
    pub alert_thresholds: Vec<Fraction>,
    #[schema(value_type = Option<f64>)]
    pub swap_threshold: Option<Fraction>,
    pub model_chain: Vec<String>,
    pub hard_limit: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    /// The principal who last changed it.
    pub updated_by: String,
}

impl Budget {
    /// The input that would make this budget again (what a patch starts from).
    pub fn input(&self) -> BudgetInput {
        BudgetInput {
            name: self.name.clone(),
            scope: self.scope.clone(),
            period: self.period,
            amount: self.amount.clone(),
            currency: self.currency.clone(),
            alert_thresholds: Some(self.alert_thresholds.clone()),
            swap_threshold: self.swap_threshold,
            model_chain: (!self.model_chain.is_empty()).then(|| self.model_chain.clone()),
            hard_limit: Some(self.hard_limit),
            spend: Some(self.spend),
        }
    }

    /// Whether the gateway must check it before a call: it swaps models or blocks.
    pub fn enforces(&self) -> bool {
        self.spend.has_llm() && (self.hard_limit || self.swap_threshold.is_some())
    }
}

impl BudgetPatch {
    /// `input` with this patch's fields in place.
    pub fn apply(self, mut input: BudgetInput) -> BudgetInput {
        if let Some(v) = self.name {
            input.name = v;
        }
        if let Some(v) = self.scope {
            input.scope = v;
            // A new scope kind implies its own spend unless the patch names one.
            input.spend = None;
        }
        if let Some(v) = self.period {
            input.period = v;
        }
        if let Some(v) = self.amount {
            input.amount = v;
        }
        if let Some(v) = self.currency {
            input.currency = v;
        }
        if let Some(v) = self.alert_thresholds {
            input.alert_thresholds = v;
        }
        if let Some(v) = self.swap_threshold {
            input.swap_threshold = v;
        }
        if let Some(v) = self.model_chain {
            input.model_chain = v;
        }
        if let Some(v) = self.hard_limit {
            input.hard_limit = Some(v);
        }
        if let Some(v) = self.spend {
            input.spend = Some(v);
        }
        input
    }
}
