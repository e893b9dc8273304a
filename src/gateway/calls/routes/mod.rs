//! The LLM spend API: `GET /api/v1/llm/calls` (one call per row, newest first, cursor pages),
//! `GET /api/v1/llm/calls/{id}` and `GET /api/v1/llm/usage` (calls summed by attribution and
//! UTC bucket). Read with `ledger:read`, as transactions are.
//!
//! The map: `calls` (the list and one call), `usage` (the sums); here the state, the permission
//! check and the filters both share.
//!
//! Invariant: every handler opens the store through [`open`], which checks `ledger:read` and
//! fixes the caller's own tenant; nothing here takes a tenant from the request.

pub mod calls;
pub mod usage;

use std::sync::Arc;

use chrono::{NaiveDate, NaiveTime};

use super::model::{CallSource, CostStatus};
use super::store::{CallFilter, CallStore};
use crate::auth::{Permission, Principal, Scoped};
use crate::domain::{time, ApiKeyId, TenantId};
use crate::error::{Error, Result};
use crate::gateway::Provider;
use crate::store::Time;

/// Longest attribution or model name a filter takes.
const MAX_NAME: usize = 256;

/// What the LLM spend routes need.
#[derive(Clone)]
pub struct CallsState {
    pub store: Arc<dyn CallStore>,
}

/// The calls' store opened for the caller's tenant with `ledger:read` checked.
pub fn open(state: &CallsState, principal: &Principal) -> Result<(Arc<dyn CallStore>, TenantId)> {
    let handle = Scoped::open_tenant(principal, Permission::LedgerRead, Arc::new(()))?;
    let tenant = handle.tenant().ok_or(Error::Forbidden)?;
    Ok((state.store.clone(), tenant))
}

/// The filters of both routes, as given.
#[derive(Debug, Default)]
pub struct FilterText<'a> {
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub application: Option<&'a str>,
    pub project: Option<&'a str>,
    pub user: Option<&'a str>,
    pub api_key: Option<ApiKeyId>,
    pub provider: Option<Provider>,
    pub model: Option<&'a str>,
    pub cost_status: Option<CostStatus>,
    pub source: Option<CallSource>,
}

/// A time bound: RFC 3339, or a date meaning its UTC midnight (`to`: the midnight after it, so a
/// date bound includes its whole day).
fn bound(name: &str, text: &str, end: bool) -> Result<Time> {
    if let Ok(t) = time::from_text(text) {
        return Ok(Time(t));
    }
    let date = text.parse::<NaiveDate>().map_err(|_| {
        Error::BadRequest(format!(
            "{name}: expected an RFC 3339 time or a YYYY-MM-DD date"
        ))
    })?;
    let date = if end {
        date.succ_opt().unwrap_or(date)
    } else {
        date
    };
    Ok(Time(date.and_time(NaiveTime::MIN).and_utc()))
}

fn name(field: &str, text: Option<&str>) -> Result<Option<String>> {
    match text {
        Some(t) if t.len() > MAX_NAME => Err(Error::BadRequest(format!(
            "{field}: at most {MAX_NAME} bytes"
        ))),
        other => Ok(other.map(str::to_owned)),
    }
}

impl FilterText<'_> {
    /// The storage filter, checked: bounds parse and `from` is not after `to`.
    pub fn filter(&self) -> Result<CallFilter> {
        let from = self.from.map(|t| bound("from", t, false)).transpose()?;
        let to = self.to.map(|t| bound("to", t, true)).transpose()?;
        if let (Some(from), Some(to)) = (from, to) {
            if from.0 > to.0 {
                return Err(Error::BadRequest("from is after to".to_owned()));
            }
        }
        Ok(CallFilter {
            from,
            to,
            application: name("application", self.application)?,
            project: name("project", self.project)?,
            user: name("user", self.user)?,
            api_key: self.api_key,
            provider: self.provider.map(|p| p.as_str().to_owned()),
            model: name("model", self.model)?,
            cost_status: self.cost_status.map(|s| s.as_str().to_owned()),
            source: self.source.map(|s| s.as_str().to_owned()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_bound_covers_its_whole_utc_day() {
        let f = FilterText {
            from: Some("2025-06-01"),
            to: Some("2025-06-01"),
            ..FilterText::default()
        }
        .filter()
        .unwrap();
        assert_eq!(
            time::to_text(&f.from.unwrap().0),
            "2025-06-01T00:00:00.000000Z"
        );
        assert_eq!(
            time::to_text(&f.to.unwrap().0),
            "2025-06-02T00:00:00.000000Z"
        );
        let exact = bound("to", "2025-06-01T12:30:00+02:00", true).unwrap();
        assert_eq!(time::to_text(&exact.0), "2025-06-01T10:30:00.000000Z");
        assert!(bound("from", "yesterday", false).is_err());
        let reversed = FilterText {
            from: Some("2025-06-02"),
            to: Some("2025-06-01T00:00:00Z"),
            ..FilterText::default()
        };
        assert!(reversed.filter().is_err());
    }
}
