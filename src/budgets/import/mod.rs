//! The seed tracker's budget YAML (`budget_rules:` with `global`, `applications`, `users` and
//! `model_costs`) as a plan: the budgets to create and the price overrides to set, each with the
//! line it was written on. Layout and mapping: `docs/budgets-yaml.md`.
//!
//! The map: `tree` (YAML events → a bounded tree of text with lines), `fields` (reading it as the
//! layout expects), `rules` (budgets), `costs` (prices per 1K tokens → per million, provider),
//! `error` (every problem, one per line).
//!
//! Invariant: pure, no I/O. A file gives a plan only if nothing in it is wrong: every unknown key,
//! wrong type, bad amount or price is reported with its line, all at once, and a plan's budgets
//! have all passed [`BudgetInput::check`]. No number is read through a float.

mod costs;
mod error;
mod fields;
mod rules;
mod tree;

#[cfg(test)]
mod tests;

use crate::budgets::model::BudgetInput;

pub use costs::{per_million, provider_of, PriceRule};
pub use error::{ImportError, Problem, MAX_PROBLEMS};
pub use tree::{MAX_BYTES, MAX_DEPTH};

use error::Problems;

/// Most rules (budgets and priced models together) a file may hold.
pub const MAX_RULES: usize = 1_000;

const TOP_KEYS: [&str; 1] = ["budget_rules"];
const SECTIONS: [&str; 4] = ["global", "applications", "users", "model_costs"];

/// What a file asks for: budgets to create and model prices to override.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Each budget with the line of its rule, in file order (`global` first).
    pub budgets: Vec<(usize, BudgetInput)>,
    /// Each priced model, in file order.
    pub prices: Vec<PriceRule>,
}

/// The plan of a budget YAML file, or every problem in it.
pub fn plan(text: &str) -> Result<Plan, ImportError> {
    let root = tree::read(text).map_err(|p| ImportError {
        problems: vec![p],
        more: 0,
    })?;
    let mut problems = Problems::default();
    let plan = plan_of(&root, &mut problems);
    problems.finish(plan)
}

fn plan_of(root: &tree::Node, problems: &mut Problems) -> Plan {
    let mut plan = Plan::default();
    let Some(top) = fields::map(root, "", "", &TOP_KEYS, problems) else {
        return plan;
    };
    let Some(rules_entry) = top.get("budget_rules") else {
        problems.add(
            root.line,
            "budget_rules",
            "missing: the rules go under this top key",
        );
        return plan;
    };
    let rules = &rules_entry.value;
    let Some(sections) = fields::map(rules, "budget_rules", "", &SECTIONS, problems) else {
        return plan;
    };
    let count = |key: &str| {
        sections.get(key).map_or(0, |e| match &e.value.value {
            tree::Value::List(items) => items.len(),
            tree::Value::Map(entries) => entries.len(),
            _ => 1,
        })
    };
    let total = 1 + count("applications") + count("users") + count("model_costs");
    if total > MAX_RULES {
        problems.add(
            rules_entry.line,
            "budget_rules",
            format!("{total} rules, more than the limit of {MAX_RULES}"),
        );
        return plan;
    }
    let mut drafts = Vec::new();
    if let Some(e) = sections.get("global") {
        drafts.extend(rules::global(e, problems));
    }
    if let Some(e) = sections.get("applications") {
        drafts.extend(rules::applications(e, problems));
    }
    if let Some(e) = sections.get("users") {
        drafts.extend(rules::users(e, problems));
    }
    if let Some(e) = sections.get("model_costs") {
        plan.prices = costs::model_costs(e, problems);
    }
    plan.budgets = rules::checked(drafts, problems);
    if plan.budgets.is_empty() && plan.prices.is_empty() && problems.is_empty() {
        problems.add(
            rules_entry.line,
            "budget_rules",
            "holds no rules: expected global, applications, users or model_costs",
        );
    }
    plan
}
