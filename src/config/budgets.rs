//! The budget settings: how often budgets are evaluated, how long a gateway reservation of a
//! call that never ends is held, the output ceiling of a call that names none, and the seed
//! YAML file to import at start.
//!
//! Invariant: the file and its tenant come together (one without the other is an error).

use std::path::PathBuf;
use std::time::Duration;

use super::{parse, vars, Reader};

#[derive(Debug, Clone)]
pub struct BudgetConfig {
    /// How often thresholds, counters and expired reservations are looked at.
    pub evaluate_every: Duration,
    /// A reservation not settled this long after its call began is given back.
    pub reservation_ttl: Duration,
    /// Output tokens a call is reserved for when it names no `max_tokens`.
    pub max_output_tokens: u64,
    /// A `budget_rules:` YAML file imported at start, and the tenant (slug) it is for.
    pub file: Option<(PathBuf, String)>,
}

/// `10s`, `15m`, `1h` or plain seconds, from `min` to `max`.
fn bounded(value: &str, min: Duration, max: Duration) -> Result<Duration, String> {
    let (number, unit) = match value.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => value.split_at(i),
        None => (value, "s"),
    };
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        _ => {
            return Err(format!(
                "{value:?} is not a duration such as 10s, 15m or 1h"
            ))
        }
    };
    let n = parse::integer(number, 1, max.as_secs())?;
    let d = Duration::from_secs(n.saturating_mul(scale));
    if d < min || d > max {
        return Err(format!(
            "must be from {}s to {}s, got {value:?}",
            min.as_secs(),
            max.as_secs()
        ));
    }
    Ok(d)
}

pub(super) fn read(r: &mut Reader<'_>) -> Option<BudgetConfig> {
    let evaluate_every = r.get(vars::BUDGET_EVALUATE_INTERVAL, |v| {
        bounded(v, Duration::from_secs(1), Duration::from_secs(3600))
    });
    let reservation_ttl = r.get(vars::BUDGET_RESERVATION_TTL, |v| {
        bounded(v, Duration::from_secs(60), Duration::from_secs(24 * 3600))
    });
    let max_output_tokens = r.get(vars::BUDGET_MAX_OUTPUT_TOKENS, |v| {
        parse::integer(v, 1, 10_000_000)
    });
    let file = r.raw(vars::BUDGETS_FILE).map(PathBuf::from);
    let tenant = r.raw(vars::BUDGETS_TENANT).map(str::to_owned);
    let file = match (file, tenant) {
        (Some(f), Some(t)) => Some((f, t)),
        (None, None) => None,
        (Some(_), None) => {
            r.errors.push(format!(
                "{}: set {} to the slug of the tenant the file is for",
                vars::BUDGETS_FILE,
                vars::BUDGETS_TENANT
            ));
            None
        }
        (None, Some(_)) => {
            r.errors.push(format!(
                "{}: set only together with {}",
                vars::BUDGETS_TENANT,
                vars::BUDGETS_FILE
            ));
            None
        }
    };
    Some(BudgetConfig {
        evaluate_every: evaluate_every?,
        reservation_ttl: reservation_ttl?,
        max_output_tokens: max_output_tokens?,
        file,
    })
}
