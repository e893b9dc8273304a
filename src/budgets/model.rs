//! Budgets as people write them and as the API shows them: a scope, a period, an amount in a
//! currency, alert thresholds, and for LLM spend a swap threshold with a model chain and a hard
//! limit. [`BudgetInput`] is the body of `POST /api/v1/budgets` and what the YAML import makes;
//! [`BudgetInput::check`] turns it into a [`NewBudget`] or names every bad field.
//!
//! Invariant: amounts are decimal text parsed into integer minor units, thresholds decimal text
//! parsed into integer parts per ten thousand ([`Fraction`]); no float on either path.

use std::fmt;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

use crate::domain::time::Timestamp;
use crate::domain::{BudgetId, Currency};
use crate::error::{Error, FieldError, Result};
use crate::ledger::import::ofx::amount::parse_minor;

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
/// The largest fraction accepted (10 = 1000 %).
pub const MAX_FRACTION: Fraction = Fraction(100_000);

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

/// A fraction such as `0.8`, exactly, in parts per ten thousand (`0.8` is 8000). Written in JSON
/// as a number (or a string holding one), read from its text, never through a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fraction(pub u32);

impl Fraction {
    /// Parts per ten thousand of one.
    pub const ONE: Fraction = Fraction(10_000);

    /// `0.8`, `.5`, `1`, `1.25`: at most four decimals, above 0 and at most [`MAX_FRACTION`].
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        let text = text.trim();
        let parts = parse_minor(text, 4)
            .map_err(|_| format!("{text:?} is not a fraction such as 0.8 (at most 4 decimals)"))?;
        if parts <= 0 || parts > i64::from(MAX_FRACTION.0) {
            return Err(format!("{text:?} must be above 0 and at most 10"));
        }
        Ok(Fraction(parts as u32))
    }

    /// `amount` (in any unit) times this fraction, rounded down.
    pub fn of(self, amount: i128) -> i128 {
        amount * i128::from(self.0) / 10_000
    }
}

impl fmt::Display for Fraction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.0 / 10_000;
        let rest = self.0 % 10_000;
        if rest == 0 {
            return write!(f, "{whole}");
        }
        let digits = format!("{rest:04}");
        write!(f, "{whole}.{}", digits.trim_end_matches('0'))
    }
}

impl Fraction {
    /// Four decimals always (`0.8000`), for ratios shown as text.
    pub fn to_string_fixed(self) -> String {
        format!("{}.{:04}", self.0 / 10_000, self.0 % 10_000)
    }
}

impl Serialize for Fraction {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let raw = RawValue::from_string(self.to_string()).map_err(serde::ser::Error::custom)?;
        raw.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Fraction {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let raw: &RawValue = Deserialize::deserialize(d)?;
        let text = raw.get();
        let text = text
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .unwrap_or(text);
        Fraction::parse(text).map_err(D::Error::custom)
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

impl BudgetInput {
    /// The checked budget, or a field error for each bad field (values are not echoed).
    pub fn check(&self) -> Result<NewBudget> {
        let mut errors = Vec::new();
        let mut bad = |field: &str, why: String| errors.push(FieldError::new(field, why));
        let name = self.name.trim().to_owned();
        if name.is_empty()
            || name.chars().count() > MAX_NAME_CHARS
            || name.chars().any(char::is_control)
        {
            bad(
                "name",
                format!("must be 1 to {MAX_NAME_CHARS} characters, no control characters"),
            );
        }
        let kind = self.scope.kind;
        let value = self
            .scope
            .value
            .as_deref()
            .map(str::trim)
            .map(str::to_owned);
        match (kind, &value) {
            (ScopeKind::Tenant, Some(_)) => {
                bad("scope.value", "a tenant scope has no value".into())
            }
            (ScopeKind::Tenant, None) => {}
            (_, None) => bad(
                "scope.value",
                format!("a {} scope needs a value", kind.as_str()),
            ),
            (_, Some(v))
                if v.is_empty()
                    || v.chars().count() > MAX_SCOPE_VALUE_CHARS
                    || v.chars().any(char::is_control) =>
            {
                bad(
                    "scope.value",
                    format!(
                        "must be 1 to {MAX_SCOPE_VALUE_CHARS} characters, no control characters"
                    ),
                )
            }
            (ScopeKind::ApiKey | ScopeKind::Account, Some(v))
                if uuid::Uuid::parse_str(v).is_err() =>
            {
                bad(
                    "scope.value",
                    format!("a {} scope's value is its id", kind.as_str()),
                )
            }
            _ => {}
        }
        let counts = match (kind, self.spend) {
            (ScopeKind::Tenant, spend) => spend.unwrap_or(Counts::All),
            (k, None) if k.is_llm() => Counts::Llm,
            (_, None) => Counts::Bank,
            (k, Some(Counts::Llm)) if k.is_llm() => Counts::Llm,
            (k, Some(Counts::Bank)) if k.is_bank() => Counts::Bank,
            (k, Some(_)) => {
                bad(
                    "spend",
                    format!(
                        "a {} scope counts {} spend only",
                        k.as_str(),
                        if k.is_llm() { "llm" } else { "bank" }
                    ),
                );
                Counts::All
            }
        };
        let currency = match Currency::iso(&self.currency) {
            Ok((c, _)) => Some(c),
            Err(e) => {
                bad("currency", e);
                None
            }
        };
        let mut amount_minor = 0;
        if let Some(c) = currency {
            match parse_minor(&self.amount, c.exponent().unwrap_or(0)) {
                // `1,000` is a thousand to some and one to others: refused, not guessed.
                _ if self.amount.contains(',') => bad(
                    "amount",
                    "is written with a dot for decimals and no thousands separator, e.g. \"1000.00\"".into(),
                ),
                Ok(n) if n > 0 => amount_minor = n,
                Ok(_) => bad("amount", "must be above zero".into()),
                Err(e) => bad(
                    "amount",
                    e.rsplit_once("\" ")
                        .map_or(e.clone(), |(_, why)| why.to_owned()),
                ),
            }
            if counts.has_llm() && c.as_str() != "USD" {
                bad(
                    "currency",
                    "LLM spend is priced in USD: a budget counting it must be in USD".into(),
                );
            }
        }
        let mut thresholds = self
            .alert_thresholds
            .clone()
            .unwrap_or_else(|| DEFAULT_THRESHOLDS.to_vec());
        thresholds.sort();
        thresholds.dedup();
        if thresholds.len() > MAX_THRESHOLDS {
            bad(
                "alert_thresholds",
                format!("at most {MAX_THRESHOLDS} thresholds"),
            );
        }
        let chain: Vec<String> = self
            .model_chain
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|m| m.trim().to_owned())
            .collect();
        if chain.len() > MAX_CHAIN {
            bad("model_chain", format!("at most {MAX_CHAIN} models"));
        }
        if chain
            .iter()
            .any(|m| m.is_empty() || m.len() > MAX_MODEL_CHARS || m.chars().any(char::is_control))
        {
            bad(
                "model_chain",
                format!("each model is 1 to {MAX_MODEL_CHARS} bytes, no control characters"),
            );
        }
        let hard_limit = self.hard_limit.unwrap_or(false);
        if !counts.has_llm() {
            if self.swap_threshold.is_some() {
                bad("swap_threshold", "applies to LLM spend only".into());
            }
            if !chain.is_empty() {
                bad("model_chain", "applies to LLM spend only".into());
            }
            if hard_limit {
                bad(
                    "hard_limit",
                    "applies to LLM spend only: bank spend cannot be blocked".into(),
                );
            }
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        Ok(NewBudget {
            name,
            scope: Scope { kind, value },
            counts,
            period: self.period,
            amount_minor,
            currency: currency.unwrap_or(Currency::USD_NANO),
            alert_thresholds: thresholds,
            swap_threshold: self.swap_threshold,
            model_chain: chain,
            hard_limit,
        })
    }
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
