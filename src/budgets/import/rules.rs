//! `global`, `applications` and `users` as budgets: a monthly USD budget of LLM spend per rule,
//! with its swap threshold and, for applications and users, the model chain of its
//! `model_preferences`. Each budget is checked as the API would check it.
//!
//! Invariant: amounts and thresholds go from their YAML text to the budget untouched by floats,
//! and a problem [`BudgetInput::check`] finds is reported at the line of the key it comes from.

use std::collections::HashMap;

use super::error::Problems;
use super::fields::{self, join, Fields};
use super::tree::{Entry, Node};
use crate::budgets::model::{BudgetInput, Counts, Fraction, Period, Scope, ScopeKind};
use crate::error::Error;

const RULE_KEYS: [&str; 2] = ["monthly_budget", "swap_threshold"];
const NAMED_KEYS: [&str; 4] = [
    "name",
    "monthly_budget",
    "swap_threshold",
    "model_preferences",
];
const USER_KEYS: [&str; 4] = [
    "id",
    "monthly_budget",
    "swap_threshold",
    "model_preferences",
];
/// In the order the chain takes them.
const PREFERENCES: [&str; 3] = ["primary", "fallback", "emergency"];

/// A budget built from a rule, and where each of its fields was written.
pub(super) struct Draft {
    pub line: usize,
    pub input: BudgetInput,
    /// `BudgetInput` field (as `check` names it) → YAML path and line; the first is the rule.
    places: Vec<(&'static str, String, usize)>,
}

/// `global`: the tenant's LLM spend.
pub(super) fn global(entry: &Entry, problems: &mut Problems) -> Option<Draft> {
    let path = "global";
    let fields = fields::map(&entry.value, path, path, &RULE_KEYS, problems)?;
    let mut draft = common(&fields, entry.line, path, problems)?;
    draft.input.name = "global".into();
    draft.input.spend = Some(Counts::Llm);
    Some(draft)
}

/// `applications[]`: each application's LLM spend.
pub(super) fn applications(entry: &Entry, problems: &mut Problems) -> Vec<Draft> {
    named(
        entry,
        "applications",
        "name",
        ScopeKind::Application,
        problems,
    )
}

/// `users[]`: each end user's LLM spend.
pub(super) fn users(entry: &Entry, problems: &mut Problems) -> Vec<Draft> {
    named(entry, "users", "id", ScopeKind::User, problems)
}

fn named(
    entry: &Entry,
    section: &str,
    name_key: &'static str,
    kind: ScopeKind,
    problems: &mut Problems,
) -> Vec<Draft> {
    let Some(items) = fields::list(&entry.value, section, problems) else {
        return Vec::new();
    };
    let keys: &[&str] = if kind == ScopeKind::User {
        &USER_KEYS
    } else {
        &NAMED_KEYS
    };
    let mut drafts = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = format!("{section}[{i}]");
        if let Some(draft) = one_named(item, &path, name_key, kind, keys, problems) {
            drafts.push(draft);
        }
    }
    drafts
}

fn one_named(
    item: &Node,
    path: &str,
    name_key: &'static str,
    kind: ScopeKind,
    keys: &[&str],
    problems: &mut Problems,
) -> Option<Draft> {
    let fields = fields::map(item, path, path, keys, problems)?;
    let name_entry = fields::required(&fields, name_key, item.line, path, problems);
    let name_path = join(path, name_key);
    let name = name_entry
        .and_then(|e| fields::text(&e.value, &name_path, "a name", problems))
        .map(str::to_owned);
    let chain = fields.get("model_preferences").and_then(|e| {
        let at = join(path, "model_preferences");
        chain(e, &at, problems).map(|c| (c, e.line, at))
    });
    let mut draft = common(&fields, item.line, path, problems)?;
    let (name, name_entry) = (name?, name_entry?);
    draft.input.name = format!("{} {name}", kind.as_str());
    draft.input.scope = Scope {
        kind,
        value: Some(name),
    };
    for field in ["name", "scope.value"] {
        draft
            .places
            .push((field, name_path.clone(), name_entry.line));
    }
    if let Some((models, line, at)) = chain {
        draft.input.model_chain = (!models.is_empty()).then_some(models);
        draft.places.push(("model_chain", at, line));
    }
    Some(draft)
}

/// `monthly_budget` and `swap_threshold`, in a tenant-scoped monthly USD budget.
fn common(fields: &Fields, line: usize, path: &str, problems: &mut Problems) -> Option<Draft> {
    let mut places = vec![("", path.to_owned(), line)];
    let amount = amount(fields, line, path, problems);
    let swap = match fields.get("swap_threshold") {
        Some(e) => {
            let at = join(path, "swap_threshold");
            let swap = fraction(&e.value, &at, problems);
            places.push(("swap_threshold", at, e.value.line));
            Some(swap?)
        }
        None => None,
    };
    let (amount, amount_line) = amount?;
    places.push(("amount", join(path, "monthly_budget"), amount_line));
    Some(Draft {
        line,
        input: BudgetInput {
            name: String::new(),
            scope: Scope {
                kind: ScopeKind::Tenant,
                value: None,
            },
            period: Period::Month,
            amount,
            currency: "USD".into(),
            alert_thresholds: None,
            swap_threshold: swap,
            model_chain: None,
            hard_limit: None,
            spend: None,
        },
        places,
    })
}

/// The text of the required `monthly_budget` and its line (`check` reads the amount).
fn amount(
    fields: &Fields,
    line: usize,
    path: &str,
    problems: &mut Problems,
) -> Option<(String, usize)> {
    let at = join(path, "monthly_budget");
    let e = fields::required(fields, "monthly_budget", line, path, problems)?;
    let text = fields::text(&e.value, &at, "an amount such as 500.00", problems)?;
    // `check` reads a comma as a decimal point (bank files write 1,50): in this file `1,000`
    // means a thousand dollars, so it is refused rather than read as one.
    if text.contains(',') {
        let why = "has a comma: write dollars with a decimal point only, such as 1000.00";
        problems.add(e.value.line, &at, format!("{text:?} {why}"));
        return None;
    }
    Some((text.to_owned(), e.value.line))
}

/// A fraction such as `0.8`, from its text.
fn fraction(node: &Node, at: &str, problems: &mut Problems) -> Option<Fraction> {
    let text = fields::text(node, at, "a fraction such as 0.8", problems)?;
    Fraction::parse(text)
        .map_err(|why| problems.add(node.line, at, why))
        .ok()
}

/// `model_preferences`: primary, fallback, emergency, in that order, absent ones skipped.
fn chain(entry: &Entry, at: &str, problems: &mut Problems) -> Option<Vec<String>> {
    let fields = fields::map(&entry.value, at, at, &PREFERENCES, problems)?;
    let mut models = Vec::new();
    let mut ok = true;
    for key in PREFERENCES {
        if let Some(e) = fields.get(key) {
            match fields::text(&e.value, &join(at, key), "a model name", problems) {
                Some(model) => models.push(model.to_owned()),
                None => ok = false,
            }
        }
    }
    ok.then_some(models)
}

/// Each draft checked as `POST /api/v1/budgets` checks its body, names unique; the inputs of
/// those that pass, with their lines.
pub(super) fn checked(drafts: Vec<Draft>, problems: &mut Problems) -> Vec<(usize, BudgetInput)> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::new();
    for draft in drafts {
        let mut ok = true;
        if let Err(e) = draft.input.check() {
            ok = false;
            report(&draft, e, problems);
        }
        let name = draft.input.name.trim().to_owned();
        let (at, line) = draft.place("name");
        if let Some(first) = seen.get(&name) {
            problems.add(
                line,
                &at,
                format!(
                    "{:?} is already used on line {first}",
                    draft.input.scope.value.as_deref().unwrap_or(&name)
                ),
            );
            ok = false;
        } else {
            seen.insert(name, line);
        }
        if ok {
            out.push((draft.line, draft.input));
        }
    }
    out
}

impl Draft {
    /// Where `field` was written, else the rule itself.
    fn place(&self, field: &str) -> (String, usize) {
        self.places
            .iter()
            .find(|(f, _, _)| *f == field)
            .or(self.places.first())
            .map_or((String::new(), self.line), |(_, path, line)| {
                (path.clone(), *line)
            })
    }
}

fn report(draft: &Draft, error: Error, problems: &mut Problems) {
    let Error::Validation(fields) = error else {
        problems.add(
            draft.line,
            &draft.place("").0,
            "the budget could not be checked",
        );
        return;
    };
    for f in fields {
        let (at, line) = draft.place(&f.field);
        let message = if f.field == "amount" {
            // The amount's own text: not a secret, and the quickest way to spot it.
            format!("{:?} {}", draft.input.amount, f.message)
        } else {
            f.message
        };
        problems.add(line, &at, message);
    }
}
