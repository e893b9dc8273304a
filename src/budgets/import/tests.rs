//! The import as a user meets it: a seed file becomes exactly the budgets and prices it says, and
//! every mistake is named with its line.

use super::*;
use crate::budgets::model::{Counts, Fraction, Period, Scope, ScopeKind};
use crate::error::Error;
use crate::gateway::pricing::model::PriceText;
use crate::gateway::Provider;

const SEED: &str = include_str!("../../../tests/fixtures/budgets/seed.yaml");
const MISTAKES: &str = include_str!("../../../tests/fixtures/budgets/mistakes.yaml");

fn budget(name: &str, scope: Scope, amount: &str) -> BudgetInput {
    BudgetInput {
        name: name.into(),
        scope,
        period: Period::Month,
        amount: amount.into(),
        currency: "USD".into(),
        alert_thresholds: None,
        swap_threshold: None,
        model_chain: None,
        hard_limit: None,
        spend: None,
    }
}

fn scope(kind: ScopeKind, value: &str) -> Scope {
    Scope {
        kind,
        value: Some(value.into()),
    }
}

fn prices(input: &str, output: &str, cache_read: Option<&str>) -> PriceText {
    PriceText {
        input: input.into(),
        output: output.into(),
        cache_read: cache_read.map(Into::into),
        cache_write_5m: None,
        cache_write_1h: None,
        reasoning: None,
    }
}

fn chain(models: &[&str]) -> Option<Vec<String>> {
    Some(models.iter().map(|m| m.to_string()).collect())
}

/// The problems of a refused file, as `line N: path: message`.
fn problems(text: &str) -> Vec<String> {
    match plan(text) {
        Ok(p) => panic!("accepted: {p:?}"),
        Err(e) => e.problems.iter().map(ToString::to_string).collect(),
    }
}

/// A file with `rules` under `budget_rules:` (indented by the caller).
fn rules(rules: &str) -> String {
    format!("budget_rules:\n{rules}")
}

#[test]
fn the_seed_file_becomes_exactly_its_budgets_and_prices() {
    let plan = plan(SEED).unwrap();
    let global = BudgetInput {
        name: "global".into(),
        scope: Scope {
            kind: ScopeKind::Tenant,
            value: None,
        },
        swap_threshold: Some(Fraction(8_500)),
        spend: Some(Counts::Llm),
        ..budget("", scope(ScopeKind::Tenant, ""), "2500.0")
    };
    let support = BudgetInput {
        swap_threshold: Some(Fraction(7_000)),
        model_chain: chain(&["gpt-4o", "gpt-4o-mini", "claude-3-5-haiku"]),
        ..budget(
            "application support-bot",
            scope(ScopeKind::Application, "support-bot"),
            "800.0",
        )
    };
    let nightly = BudgetInput {
        // In chain order, whatever order they were written in.
        model_chain: chain(&["claude-sonnet-4", "gpt-4o-mini"]),
        ..budget(
            "application nightly-summaries",
            scope(ScopeKind::Application, "nightly-summaries"),
            "120.50",
        )
    };
    let analyst = BudgetInput {
        swap_threshold: Some(Fraction(9_000)),
        ..budget("user analyst_7", scope(ScopeKind::User, "analyst_7"), "75")
    };
    let oncall = BudgetInput {
        model_chain: chain(&["o3-mini"]),
        ..budget(
            "user ops-oncall",
            scope(ScopeKind::User, "ops-oncall"),
            "0.1",
        )
    };
    assert_eq!(
        plan.budgets,
        vec![
            (4, global),
            (8, support),
            (15, nightly),
            (21, analyst),
            (24, oncall)
        ]
    );
    let rule = |line, provider, model: &str, prices| PriceRule {
        line,
        provider,
        model: model.into(),
        prices,
    };
    assert_eq!(
        plan.prices,
        vec![
            rule(
                30,
                Provider::OpenAi,
                "gpt-4o",
                prices("2.5", "10", Some("1.25"))
            ),
            rule(
                34,
                Provider::Anthropic,
                "claude-sonnet-4",
                prices("3", "15", Some("0.3"))
            ),
            rule(38, Provider::OpenAi, "o3-mini", prices("1.1", "4.4", None)),
        ]
    );
}

#[test]
fn every_mistake_is_named_with_its_line_all_at_once() {
    assert_eq!(
        problems(MISTAKES),
        [
            "line 2: global.monthly_budget: missing",
            "line 3: global.monthly_budgt: unknown key; expected monthly_budget or swap_threshold",
            "line 7: applications[0].monthly_budget: \"abc\" is not a decimal amount",
            "line 8: applications[1].name: \"reports\" is already used on line 6",
            "line 12: applications[1].model_preferences.backup: unknown key; expected primary, \
             fallback or emergency",
            "line 14: users: expected a list (lines starting with -), found a map",
            "line 16: model_costs[\"mistral-large\"]: the provider cannot be told from the model \
             name (known: gpt-, o1, o3, o4, chatgpt-, text-embedding-, davinci, babbage for \
             OpenAI; claude- for Anthropic)",
            "line 19: model_costs[\"gpt-4o-mini\"].output: missing",
        ]
    );
}

#[test]
fn amounts_keep_their_text_and_are_never_floats() {
    let one = |amount: &str| {
        rules(&format!(
            "  users:\n    - id: u1\n      monthly_budget: {amount}\n"
        ))
    };
    let planned = plan(&one("0.1")).unwrap();
    let (line, input) = &planned.budgets[0];
    assert_eq!((*line, input.amount.as_str()), (3, "0.1"));
    assert_eq!(input.check().unwrap().amount_minor, 10);
    // What 0.1 + 0.2 prints as in floating point is not an amount of dollars and cents.
    assert_eq!(
        problems(&one("0.30000000000000004")),
        ["line 4: users[0].monthly_budget: \"0.30000000000000004\" has more than 2 decimal places"]
    );
    assert_eq!(
        problems(&one("1e3")),
        ["line 4: users[0].monthly_budget: \"1e3\" is not a decimal amount"]
    );
    assert_eq!(
        problems(&one("1,000")),
        [
            "line 4: users[0].monthly_budget: \"1,000\" has a comma: write dollars with a decimal \
          point only, such as 1000.00"
        ]
    );
    assert_eq!(
        problems(&one("0")),
        ["line 4: users[0].monthly_budget: \"0\" must be above zero"]
    );
    // Thresholds likewise: 0.75 is exactly 7500 parts in ten thousand.
    let text = rules("  global:\n    monthly_budget: 5\n    swap_threshold: 0.75\n");
    assert_eq!(
        plan(&text).unwrap().budgets[0].1.swap_threshold,
        Some(Fraction(7_500))
    );
    let text = rules("  global:\n    monthly_budget: 5\n    swap_threshold: 0.12345\n");
    assert_eq!(
        problems(&text),
        [
            "line 4: global.swap_threshold: \"0.12345\" is not a fraction such as 0.8 (at most 4 \
          decimals)"
        ]
    );
}

#[test]
fn prices_per_thousand_tokens_become_prices_per_million_in_text() {
    for (per_k, per_m) in [
        ("0.00025", "0.25"),
        ("0.01", "10"),
        ("3", "3000"),
        ("0.000000001", "0.000001"),
        (".5", "500"),
        ("0", "0"),
        ("0.0", "0"),
        ("007.5", "7500"),
        ("12.3456789", "12345.6789"),
        ("0.0000000000010", "0.000000001"),
    ] {
        assert_eq!(per_million(per_k).as_deref(), Ok(per_m), "{per_k}");
    }
    for bad in [
        "", ".", "1.", "-1", "+1", "1e-3", "1,5", "1.2.3", "0x10", "1_000",
    ] {
        assert!(per_million(bad).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn a_price_finer_than_the_catalog_keeps_is_refused_with_its_line() {
    let text =
        rules("  model_costs:\n    gpt-4o:\n      input: 0.0000000000001\n      output: 1x\n");
    assert_eq!(
        problems(&text),
        [
            "line 4: model_costs[\"gpt-4o\"].input: \"0.0000000000001\" per 1K tokens is \
             0.0000000001 per million tokens: more than 9 decimal places (finer than a \
             nano-dollar)",
            "line 5: model_costs[\"gpt-4o\"].output: \"1x\" is not a price such as 0.01 (dollars \
             per 1K tokens)",
        ]
    );
    let both = rules(
        "  model_costs:\n    gpt-4o:\n      input: 1\n      output: 2\n      \
         cached_input: 0.5\n      cache_read: 0.5\n",
    );
    assert_eq!(
        problems(&both),
        ["line 7: model_costs[\"gpt-4o\"].cache_read: give cached_input or cache_read, not both"]
    );
}

#[test]
fn the_provider_is_told_from_the_model_name() {
    for (model, provider) in [
        ("gpt-4-turbo", Some(Provider::OpenAi)),
        ("o1-preview", Some(Provider::OpenAi)),
        ("o3", Some(Provider::OpenAi)),
        ("o4-mini", Some(Provider::OpenAi)),
        ("chatgpt-4o-latest", Some(Provider::OpenAi)),
        ("text-embedding-3-small", Some(Provider::OpenAi)),
        ("davinci-002", Some(Provider::OpenAi)),
        ("babbage-002", Some(Provider::OpenAi)),
        ("GPT-4o", Some(Provider::OpenAi)),
        ("claude-3-haiku", Some(Provider::Anthropic)),
        ("gemini-1.5-pro", None),
        ("claude", None),
        ("llama-3", None),
    ] {
        assert_eq!(provider_of(model), provider, "{model}");
    }
}

#[test]
fn aliases_and_anchors_are_refused() {
    let laughs = rules(
        "  global: &g\n    monthly_budget: 5\n  users:\n    - id: a\n      monthly_budget: *x\n",
    );
    assert_eq!(
        problems(&laughs),
        ["line 2: anchors (&name) are not accepted"]
    );
    let alias = "a: &x 1\nbudget_rules: *x\n";
    assert_eq!(
        problems(alias),
        ["line 1: anchors (&name) are not accepted"]
    );
    // The parser refuses an alias of an anchor it has not seen, and every anchor is refused
    // before its first alias: nothing is ever repeated.
    let merge = rules("  global:\n    <<: *base\n");
    assert_eq!(
        problems(&merge),
        ["line 3: not valid YAML: while parsing node, found unknown anchor"]
    );
    let billion = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n";
    assert_eq!(
        problems(billion),
        ["line 1: anchors (&name) are not accepted"]
    );
}

#[test]
fn large_deep_or_many_ruled_files_are_refused() {
    let huge = format!(
        "{}# {}\n",
        rules("  global:\n    monthly_budget: 5\n"),
        "x".repeat(MAX_BYTES)
    );
    assert_eq!(
        problems(&huge),
        [format!(
            "line 1: the file is {} bytes, more than the limit of {MAX_BYTES}",
            huge.len()
        )]
    );
    let deep = format!("budget_rules: {}{}\n", "[".repeat(40), "]".repeat(40));
    assert_eq!(
        problems(&deep),
        [format!(
            "line 1: maps and lists are nested more than {MAX_DEPTH} deep"
        )]
    );
    let users: String = (0..MAX_RULES)
        .map(|i| format!("    - id: u{i}\n      monthly_budget: 1\n"))
        .collect();
    assert_eq!(
        problems(&rules(&format!(
            "  global:\n    monthly_budget: 5\n  users:\n{users}"
        ))),
        ["line 1: budget_rules: 1001 rules, more than the limit of 1000"]
    );
    // One fewer is accepted.
    let users: String = users.lines().skip(2).map(|l| format!("{l}\n")).collect();
    let plan = plan(&rules(&format!(
        "  global:\n    monthly_budget: 5\n  users:\n{users}"
    )));
    assert_eq!(plan.unwrap().budgets.len(), MAX_RULES);
}

#[test]
fn a_file_of_eighty_thousand_keys_is_answered_with_fifty_problems() {
    let keys: String = (0..80_000).map(|i| format!(" k{i}: 1\n")).collect();
    let text = format!("budget_rules:\n global:\n  monthly_budget: 5\n{keys}");
    assert!(text.len() < MAX_BYTES);
    let e = plan(&text).unwrap_err();
    assert_eq!(
        (e.problems.len(), e.more),
        (MAX_PROBLEMS, 80_000 - MAX_PROBLEMS)
    );
    assert_eq!(
        e.problems[0].to_string(),
        "line 4: k0: unknown key; expected global, applications, users or model_costs"
    );
}

#[test]
fn problems_are_capped_and_the_rest_counted() {
    let keys: String = (0..60).map(|i| format!("    typo{i}: 1\n")).collect();
    let text = rules(&format!("  global:\n    monthly_budget: 5\n{keys}"));
    let e = plan(&text).unwrap_err();
    assert_eq!((e.problems.len(), e.more), (MAX_PROBLEMS, 10));
    assert!(e.to_string().ends_with("\n... and 10 more problems"));
}

#[test]
fn the_file_shape_is_checked() {
    assert_eq!(
        problems("budget_rule:\n  global: {}\n"),
        [
            "line 1: budget_rule: unknown key; expected budget_rules",
            "line 1: budget_rules: missing: the rules go under this top key",
        ]
    );
    assert_eq!(
        problems(""),
        ["line 1: the file is empty: expected a `budget_rules` map"]
    );
    assert_eq!(
        problems("- budget_rules\n"),
        ["line 1: expected a map of keys, found a list"]
    );
    assert_eq!(
        problems("budget_rules:\n  applications: {}\n"),
        ["line 2: applications: expected a list (lines starting with -), found a map"]
    );
    assert_eq!(
        problems("budget_rules:\n"),
        [
            "line 1: budget_rules: holds no rules: expected global, applications, users or \
          model_costs"
        ]
    );
    assert_eq!(
        problems("budget_rules:\n  global:\n    monthly_budget: [5]\n"),
        ["line 3: global.monthly_budget: expected an amount such as 500.00, found a list"]
    );
    assert_eq!(
        problems("budget_rules:\n  global:\n    monthly_budget: 5\n    monthly_budget: 6\n"),
        ["line 4: global.monthly_budget: written twice (first on line 3)"]
    );
    assert_eq!(
        problems("budget_rules:\n  global:\n    monthly_budget: !!float 5\n"),
        ["line 3: tags (!name) are not accepted"]
    );
    assert_eq!(
        problems("budget_rules: {}\n---\nbudget_rules: {}\n"),
        ["line 2: only one YAML document is accepted"]
    );
    let syntax = problems("budget_rules:\n  global:\n    monthly_budget: 5\n   bad: [\n");
    assert_eq!(syntax.len(), 1);
    assert!(
        syntax[0].starts_with("line 4: not valid YAML: "),
        "{syntax:?}"
    );
}

#[test]
fn a_refused_file_is_a_validation_error_naming_each_line() {
    let e = Error::from(plan(MISTAKES).unwrap_err());
    let Error::Validation(fields) = e else {
        panic!("not a validation error: {e:?}");
    };
    assert_eq!(fields.len(), 8);
    assert_eq!(fields[2].field, "line 7: applications[0].monthly_budget");
    assert_eq!(fields[2].message, "\"abc\" is not a decimal amount");
    let shown = plan(MISTAKES).unwrap_err().to_string();
    assert_eq!(shown.lines().count(), 8);
    assert!(shown.starts_with("line 2: global.monthly_budget: missing\nline 3: "));
}

#[test]
fn flow_style_quotes_and_empty_sections_are_read_like_block_style() {
    let text = rules(
        "  global: {monthly_budget: \"40\", swap_threshold: '0.5'}\n  applications:\n  \
         users: []\n  \
         model_costs: {\"text-embedding-3-small\": {input: 0.00002, output: 0}}\n",
    );
    let plan = plan(&text).unwrap();
    assert_eq!(plan.budgets.len(), 1);
    assert_eq!(plan.budgets[0].1.amount, "40");
    assert_eq!(plan.budgets[0].1.swap_threshold, Some(Fraction(5_000)));
    assert_eq!(plan.prices[0].prices, prices("0.02", "0", None));
    assert_eq!(plan.prices[0].line, 5);
}

#[test]
fn a_file_saved_on_windows_reads_the_same() {
    let windows = format!("\u{feff}{}", SEED.replace('\n', "\r\n"));
    assert_eq!(plan(&windows), plan(SEED));
    let mistakes = MISTAKES.replace('\n', "\r\n");
    assert_eq!(problems(&mistakes), problems(MISTAKES));
}

#[test]
fn every_cut_of_a_file_is_answered_with_lines_inside_it() {
    for text in [SEED, MISTAKES] {
        let lines = text.lines().count() + 1;
        for end in (0..text.len()).filter(|&i| text.is_char_boundary(i)) {
            if let Err(e) = plan(&text[..end]) {
                assert!(!e.problems.is_empty(), "cut at {end}");
                for p in &e.problems {
                    assert!((1..=lines).contains(&p.line), "cut at {end}: {p}");
                }
            }
        }
    }
}
