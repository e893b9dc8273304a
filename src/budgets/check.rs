//! The checks a budget passes before it is stored: each field's rule and the rules between
//! fields (a scope's value, the spend it may count, what applies to LLM spend only).
//!
//! Invariant: every bad field is named with its rule, never its value; nothing is guessed (an
//! amount with a comma is refused).

use super::model::*;
use crate::domain::Currency;
use crate::error::{Error, FieldError, Result};
use crate::ledger::import::ofx::amount::parse_minor;

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
