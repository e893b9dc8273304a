//! LLM usage: calls summed by attribution and by UTC time bucket, as `GET /api/v1/llm/usage`
//! answers them. The sums are made by the database (`CallStore::usage`); this file names the
//! groups and buckets and turns a summed row into what the API shows.
//!
//! Invariant: a group's cost sums priced calls only; unpriced calls are counted beside it and
//! never add $0; every amount is integer nano-dollars until it is shown as decimal text.

use serde::Serialize;

use super::store::UsageRow;
use crate::domain::names::text_enum;
use crate::error::{Error, Result};
use crate::gateway::{Nanos, Usage};

text_enum!(
    /// What usage can be grouped by.
    GroupKey {
        Application = "application",
        Project = "project",
        User = "user",
        ApiKey = "api_key",
        Provider = "provider",
        /// The answered model, or the requested one when none answered.
        Model = "model",
    }
);

text_enum!(
    /// A UTC time bucket.
    Interval { Hour = "hour", Day = "day", Month = "month" }
);

/// Most groups a usage answer holds; beyond it the answer says `truncated`.
pub const MAX_GROUPS: u32 = 10_000;

/// `group_by` as given (`application,model`): known names, each once, in the order given.
pub fn parse_group_by(text: &str) -> Result<Vec<GroupKey>> {
    let mut keys = Vec::new();
    for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let key = GroupKey::parse(name).ok_or_else(|| {
            let known: Vec<&str> = GroupKey::ALL.iter().map(|k| k.as_str()).collect();
            Error::BadRequest(format!(
                "group_by: unknown group (known: {})",
                known.join(", ")
            ))
        })?;
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    Ok(keys)
}

/// One group's sums, as the API shows them. Group keys are present when grouped by them (a
/// call without that attribution shows `null`).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = LlmUsageGroup)]
pub struct UsageGroup {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<Option<String>>,
    /// The start of the UTC bucket (RFC 3339), when an `interval` was asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
    #[serde(flatten)]
    pub sums: UsageSums,
}

/// What a set of calls used and cost.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = LlmUsageSums)]
pub struct UsageSums {
    pub calls: i64,
    /// The priced calls' cost in USD, nine decimal places (`"0.000240000"`).
    pub cost: String,
    /// The same cost in integer nano-dollars.
    pub cost_nanos: i64,
    pub priced_calls: i64,
    /// Calls with tokens but no price: counted here, never added to the cost as $0.
    pub unpriced_calls: i64,
    pub tokens: Usage,
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

impl UsageSums {
    pub fn of(row: &UsageRow) -> Self {
        UsageSums {
            calls: row.calls,
            cost: Nanos(row.cost_nanos).to_dollars(),
            cost_nanos: row.cost_nanos,
            priced_calls: row.priced_calls,
            unpriced_calls: row.unpriced_calls,
            tokens: Usage {
                input: count(row.input_tokens),
                cache_read: count(row.cache_read_tokens),
                cache_write_5m: count(row.cache_write_5m_tokens),
                cache_write_1h: count(row.cache_write_1h_tokens),
                output: count(row.output_tokens),
                reasoning: count(row.reasoning_tokens),
            },
        }
    }
}

/// The bucket start as RFC 3339, from the bucket text both backends give
/// (`YYYY-MM-DDTHH`, `YYYY-MM-DD`, `YYYY-MM`).
pub fn period_start(interval: Interval, bucket: &str) -> Option<String> {
    let text = match interval {
        Interval::Hour => format!("{bucket}:00:00Z"),
        Interval::Day => format!("{bucket}T00:00:00Z"),
        Interval::Month => format!("{bucket}-01T00:00:00Z"),
    };
    chrono::DateTime::parse_from_rfc3339(&text)
        .ok()
        .map(|t| t.to_utc().format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

impl UsageGroup {
    pub fn of(row: &UsageRow, keys: &[GroupKey], interval: Option<Interval>) -> Self {
        let pick =
            |key: GroupKey, value: &Option<String>| keys.contains(&key).then(|| value.clone());
        UsageGroup {
            application: pick(GroupKey::Application, &row.application),
            project: pick(GroupKey::Project, &row.project),
            user: pick(GroupKey::User, &row.end_user),
            api_key: pick(GroupKey::ApiKey, &row.api_key),
            provider: pick(GroupKey::Provider, &row.provider),
            model: pick(GroupKey::Model, &row.model),
            period: interval.and_then(|i| period_start(i, row.period.as_deref()?)),
            sums: UsageSums::of(row),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_by_takes_known_names_once_and_refuses_others() {
        assert_eq!(
            parse_group_by("model, application,model").unwrap(),
            [GroupKey::Model, GroupKey::Application]
        );
        assert!(parse_group_by("").unwrap().is_empty());
        assert!(parse_group_by("application,tenant").is_err());
    }

    #[test]
    fn buckets_are_shown_as_their_utc_start() {
        let at = |i, b| period_start(i, b).unwrap();
        assert_eq!(at(Interval::Hour, "2025-06-01T13"), "2025-06-01T13:00:00Z");
        assert_eq!(at(Interval::Day, "2025-06-01"), "2025-06-01T00:00:00Z");
        assert_eq!(at(Interval::Month, "2025-06"), "2025-06-01T00:00:00Z");
        assert_eq!(period_start(Interval::Day, "garbage"), None);
    }
}
