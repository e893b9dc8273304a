//! The catalog against arithmetic done by hand: each case's comment is the sum the expected
//! nano-dollars come from ($1 per million tokens is 1,000 nano-dollars per token).

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use super::*;
use crate::gateway::{Nanos, Provider, Usage};

const A: Provider = Provider::Anthropic;
const O: Provider = Provider::OpenAi;

fn u(input: u64, cache_read: u64, w5: u64, w1h: u64, output: u64, reasoning: u64) -> Usage {
    Usage {
        input,
        cache_read,
        cache_write_5m: w5,
        cache_write_1h: w1h,
        output,
        reasoning,
    }
}

fn day(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 12, 0, 0)
        .single()
        .unwrap_or_default()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

fn at(y: i32, m: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, mi, s)
        .single()
        .unwrap_or_default()
}

/// (provider, model id, when, usage, expected nanos, expected tier threshold)
type Case = (
    Provider,
    &'static str,
    DateTime<Utc>,
    Usage,
    i64,
    Option<u64>,
);

#[rustfmt::skip]
fn shipped_cases() -> Vec<Case> {
    let d = day(2025, 9, 1);
    vec![
        // 1,000 input at $3 + 500 output at $15 = 3,000,000 + 7,500,000
        (A, "claude-sonnet-4-5", d, u(1_000, 0, 0, 0, 500, 0), 10_500_000, None),
        // dated id, same prices: 3,000,000 + 7,500,000
        (A, "claude-sonnet-4-5-20250929", d, u(1_000, 0, 0, 0, 500, 0), 10_500_000, None),
        // 100 x 3,000 + 10,000 cache reads x 300 + 200 x 15,000 = 300,000 + 3,000,000 + 3,000,000
        (A, "claude-sonnet-4-5", d, u(100, 10_000, 0, 0, 200, 0), 6_300_000, None),
        // 2,000 5m writes x 3,750 + 10 x 3,000 + 10 x 15,000 = 7,500,000 + 30,000 + 150,000
        (A, "claude-sonnet-4-5", d, u(10, 0, 2_000, 0, 10, 0), 7_680_000, None),
        // 2,000 1h writes x 6,000 + 30,000 + 150,000 = 12,000,000 + 180,000
        (A, "claude-sonnet-4-5", d, u(10, 0, 0, 2_000, 10, 0), 12_180_000, None),
        // long context: 250,000 x 6,000 + 1,000 x 22,500 = 1,500,000,000 + 22,500,000
        (A, "claude-sonnet-4-5", d, u(250_000, 0, 0, 0, 1_000, 0), 1_522_500_000, Some(200_000)),
        // exactly 200,000 is not above the threshold: 200,000 x 3,000
        (A, "claude-sonnet-4-5", d, u(200_000, 0, 0, 0, 0, 0), 600_000_000, None),
        // 200,001 prompt tokens counting cache reads: 1 x 6,000 + 200,000 x 600 = 6,000 + 120,000,000
        (A, "claude-sonnet-4-5", d, u(1, 200_000, 0, 0, 0, 0), 120_006_000, Some(200_000)),
        // Sonnet 4 dated id: 1,000 x 3,000 + 500 x 15,000
        (A, "claude-sonnet-4-20250514", d, u(1_000, 0, 0, 0, 500, 0), 10_500_000, None),
        // Sonnet 4 long context (added): 300,000 x 6,000 + 2,000 x 22,500 = 1,800,000,000 + 45,000,000
        (A, "claude-sonnet-4-20250514", d, u(300_000, 0, 0, 0, 2_000, 0), 1_845_000_000, Some(200_000)),
        // Sonnet 4 long-context 1h writes at 2 x $6: 1,000 x 6,000 + 250,000 x 12,000 = 6,000,000 + 3,000,000,000
        (A, "claude-sonnet-4-0", d, u(1_000, 0, 0, 250_000, 0, 0), 3_006_000_000, Some(200_000)),
        // 1,000 x 15,000 + 1,000 x 75,000 = 15,000,000 + 75,000,000
        (A, "claude-opus-4-1", d, u(1_000, 0, 0, 0, 1_000, 0), 90_000_000, None),
        // 1,000 x 1,500 + 1,000 x 18,750 + 1,000 x 30,000 = 1,500,000 + 18,750,000 + 30,000,000
        (A, "claude-opus-4-1-20250805", d, u(0, 1_000, 1_000, 1_000, 0, 0), 50_250_000, None),
        // 2,000 x 15,000 + 300 x 75,000 = 30,000,000 + 22,500,000
        (A, "claude-opus-4-20250514", d, u(2_000, 0, 0, 0, 300, 0), 52_500_000, None),
        // 1,000 x 1,000 + 1,000 x 5,000 = 1,000,000 + 5,000,000
        (A, "claude-haiku-4-5-20251001", d, u(1_000, 0, 0, 0, 1_000, 0), 6_000_000, None),
        // 5,000 reads x 100 + 1,000 1h writes x 2,000 = 500,000 + 2,000,000
        (A, "claude-haiku-4-5", d, u(0, 5_000, 0, 1_000, 0, 0), 2_500_000, None),
        // 1,000 x 800 + 1,000 x 4,000 = 800,000 + 4,000,000
        (A, "claude-3-5-haiku-20241022", d, u(1_000, 0, 0, 0, 1_000, 0), 4_800_000, None),
        // 1,000 5m writes x 1,000
        (A, "claude-3-5-haiku-latest", d, u(0, 0, 1_000, 0, 0, 0), 1_000_000, None),
        // 1,000,000 x 250
        (A, "claude-3-haiku-20240307", d, u(1_000_000, 0, 0, 0, 0, 0), 250_000_000, None),
        // 3 x 1,250
        (A, "claude-3-haiku-20240307", d, u(0, 0, 0, 0, 3, 0), 3_750, None),
        // 1 cache read x 30
        (A, "claude-3-haiku-20240307", d, u(0, 1, 0, 0, 0, 0), 30, None),
        // 1,000 x 3,000 + 1,000 x 15,000 (3.7 Sonnet by its dated id)
        (A, "claude-3-7-sonnet-20250219", d, u(1_000, 0, 0, 0, 1_000, 0), 18_000_000, None),
        // Opus 4.6 before 2026-03-13, long context: 300,000 x 10,000 + 1,000 x 37,500
        (A, "claude-opus-4-6", day(2026, 1, 1), u(300_000, 0, 0, 0, 1_000, 0), 3_037_500_000, Some(200_000)),
        // Opus 4.6 from 2026-03-13, one flat price: 300,000 x 5,000 + 1,000 x 25,000
        (A, "claude-opus-4-6", day(2026, 4, 1), u(300_000, 0, 0, 0, 1_000, 0), 1_525_000_000, None),
        // Sonnet 4.6 from 2026-03-13: 300,000 x 3,000 + 1,000 x 15,000
        (A, "claude-sonnet-4-6", day(2026, 4, 1), u(300_000, 0, 0, 0, 1_000, 0), 915_000_000, None),
        // 1,000 x 2,500 + 500 x 10,000 = 2,500,000 + 5,000,000
        (O, "gpt-4o", d, u(1_000, 0, 0, 0, 500, 0), 7_500_000, None),
        // 86 x 2,500 + 1,920 cached x 1,250 + 300 x 10,000 = 215,000 + 2,400,000 + 3,000,000
        (O, "gpt-4o-2024-08-06", d, Usage::from_openai(2_006, 1_920, 0, 300, 0), 5_615_000, None),
        // the May 2024 snapshot has its own price: 1,000 x 5,000 + 1,000 x 15,000
        (O, "gpt-4o-2024-05-13", d, u(1_000, 0, 0, 0, 1_000, 0), 20_000_000, None),
        // 1,000 x 150 + 1,000 x 600
        (O, "gpt-4o-mini", d, u(1_000, 0, 0, 0, 1_000, 0), 750_000, None),
        // 1,000 cached x 75
        (O, "gpt-4o-mini", d, u(0, 1_000, 0, 0, 0, 0), 75_000, None),
        // 10,000 x 150
        (O, "gpt-4o-mini-2024-07-18", d, u(10_000, 0, 0, 0, 0, 0), 1_500_000, None),
        // o3 before its price cut: 1,000 x 10,000 + 1,000 x 40,000
        (O, "o3", day(2025, 5, 1), u(1_000, 0, 0, 0, 1_000, 0), 50_000_000, None),
        // o3 at launch, cached input $2.50: 1,000 cached x 2,500
        (O, "o3-2025-04-16", day(2025, 5, 1), u(0, 1_000, 0, 0, 0, 0), 2_500_000, None),
        // the last second before the cut: still 50,000,000
        (O, "o3", at(2025, 6, 9, 23, 59, 59), u(1_000, 0, 0, 0, 1_000, 0), 50_000_000, None),
        // midnight of the cut: 1,000 x 2,000 + 1,000 x 8,000
        (O, "o3", at(2025, 6, 10, 0, 0, 0), u(1_000, 0, 0, 0, 1_000, 0), 10_000_000, None),
        // reasoning is part of output, not added: 1,000 x 2,000 + 2,000 x 8,000
        (O, "o3", d, Usage::from_openai(1_000, 0, 0, 2_000, 1_500), 18_000_000, None),
        // 100 x 15,000 + 5,000 output (4,000 reasoning) x 60,000 = 1,500,000 + 300,000,000
        (O, "o1", d, u(100, 0, 0, 0, 5_000, 4_000), 301_500_000, None),
        // 1,000 x 1,100 + 1,000 x 275 + 1,000 x 4,400
        (O, "o4-mini", d, u(1_000, 1_000, 0, 0, 1_000, 0), 5_775_000, None),
        // 1,000 x 2,000 + 1,000 x 500 + 1,000 x 8,000
        (O, "gpt-4.1", d, u(1_000, 1_000, 0, 0, 1_000, 0), 10_500_000, None),
        // dated: the same 10,500,000
        (O, "gpt-4.1-2025-04-14", d, u(1_000, 1_000, 0, 0, 1_000, 0), 10_500_000, None),
        // 1,000 x 1,250 + 10,000 x 125 + 1,000 x 10,000 = 1,250,000 + 1,250,000 + 10,000,000
        (O, "gpt-5", d, u(1_000, 10_000, 0, 0, 1_000, 0), 12_500_000, None),
        // 1,000 x 250 + 1,000 x 2,000
        (O, "gpt-5-mini", d, u(1_000, 0, 0, 0, 1_000, 0), 2_250_000, None),
        // 1,000 x 50 + 1,000 cached x 5 + 1,000 x 400
        (O, "gpt-5-nano", d, u(1_000, 1_000, 0, 0, 1_000, 0), 455_000, None),
        // 1,000 x 500 + 1,000 x 1,500
        (O, "gpt-3.5-turbo", d, u(1_000, 0, 0, 0, 1_000, 0), 2_000_000, None),
        // 1,000 x 10,000 + 1,000 x 30,000
        (O, "gpt-4-turbo-2024-04-09", d, u(1_000, 0, 0, 0, 1_000, 0), 40_000_000, None),
        // no cache price listed: cached tokens at the input price, 1,000 x 30,000
        (O, "gpt-4", d, u(0, 1_000, 0, 0, 0, 0), 30_000_000, None),
        // embeddings, input only: 1,000 x 20
        (O, "text-embedding-3-small", d, u(1_000, 0, 0, 0, 0, 0), 20_000, None),
        // 8,191 x 130
        (O, "text-embedding-3-large", d, u(8_191, 0, 0, 0, 0, 0), 1_064_830, None),
        // 1,000,000 x 100
        (O, "text-embedding-ada-002", d, u(1_000_000, 0, 0, 0, 0, 0), 100_000_000, None),
        // a cache price introduced on a date: before it cached at input, 1,000 x 12,500
        (O, "gpt-5.5-cyber", day(2026, 10, 18), u(0, 1_000, 0, 0, 0, 0), 12_500_000, None),
        // from 2026-10-19: 1,000 x 1,250
        (O, "gpt-5.5-cyber", day(2026, 10, 19), u(0, 1_000, 0, 0, 0, 0), 1_250_000, None),
        // a snapshot date after a known id: 1,000 x 2,000 + 1,000 x 10,000 (Sonnet 5)
        (A, "claude-sonnet-5-20260115", d, u(1_000, 0, 0, 0, 1_000, 0), 12_000_000, None),
        // the same with a Vertex-style @date: 12,000,000
        (A, "claude-opus-5@20260115", d, u(0, 0, 0, 0, 480, 0), 12_000_000, None),
        // a dashed snapshot date: 1,000 x 2,000 + 1,000 x 10,000 (gpt-6-sol)
        (O, "gpt-6-sol-2026-03-01", d, u(1_000, 0, 0, 0, 1_000, 0), 12_000_000, None),
        // OpenAI's long context above 272,000: 300,000 x 4,000 + 1,000 x 15,000
        (O, "gpt-6-sol", d, u(300_000, 0, 0, 0, 1_000, 0), 1_215_000_000, Some(272_000)),
        // a known model and no tokens costs nothing, and says so
        (O, "gpt-4o", d, u(0, 0, 0, 0, 0, 0), 0, None),
    ]
}

#[test]
fn shipped_prices_match_hand_arithmetic() {
    let catalog = shipped().unwrap();
    let cases = shipped_cases();
    assert!(cases.len() >= 50, "{} cases", cases.len());
    for (provider, model, when, usage, nanos, tier) in cases {
        let priced = catalog.price(provider, model, when, &usage);
        let priced = priced.unwrap_or_else(|| panic!("{model} is not priced"));
        assert_eq!(priced.cost, Nanos(nanos), "{model} at {when}");
        assert_eq!(priced.tier_above, tier, "{model} tier");
        assert_eq!(priced.origin, Origin::Shipped);
        let lines: u128 = priced.breakdown.lines().iter().map(|l| l.micro_nanos).sum();
        assert_eq!(
            lines,
            u128::from(nanos.unsigned_abs()) * 1_000_000,
            "{model} lines"
        );
    }
}

#[test]
fn an_unknown_model_is_none_never_zero() {
    let catalog = shipped().unwrap();
    let d = day(2025, 9, 1);
    let usage = u(1_000, 0, 0, 0, 1_000, 0);
    assert_eq!(catalog.price(O, "gpt-nonexistent", d, &usage), None);
    // Known to one provider is not known to the other.
    assert_eq!(catalog.price(A, "gpt-4o", d, &usage), None);
    assert_eq!(catalog.price(O, "claude-sonnet-4-5", d, &usage), None);
    assert_eq!(catalog.price(O, "", d, &usage), None);
    // a date after an unknown id is still unknown; a date alone is not an id
    assert_eq!(
        catalog.price(O, "gpt-nonexistent-2025-08-07", d, &usage),
        None
    );
    assert_eq!(catalog.price(O, "2025-08-07", d, &usage), None);
    assert_eq!(catalog.price(A, "claude-sonnet-5-2026011", d, &usage), None);
}

#[test]
fn the_effective_date_and_canonical_model_are_reported() {
    let catalog = shipped().unwrap();
    let usage = u(1, 0, 0, 0, 1, 0);
    let cut = catalog
        .price(O, "o3-2025-04-16", day(2025, 7, 1), &usage)
        .unwrap();
    assert_eq!(
        (cut.model.as_str(), cut.effective_from),
        ("o3", Some(date(2025, 6, 10)))
    );
    let before = catalog.price(O, "o3", day(2025, 5, 1), &usage).unwrap();
    assert_eq!(before.effective_from, None);
}

fn flat(input: &str, output: &str) -> PriceSet {
    PriceSet {
        input: parse_price(input).unwrap(),
        output: parse_price(output).unwrap(),
        ..PriceSet::default()
    }
}

fn negotiated(provider: Provider, model: &str, from: NaiveDate, prices: PriceSet) -> Override {
    Override {
        provider,
        model: model.to_owned(),
        from,
        base: prices,
        tiers: Vec::new(),
    }
}

#[test]
fn overrides_layer_over_the_shipped_prices_from_their_date() {
    let sonnet = negotiated(A, "claude-sonnet-4-5", date(2025, 9, 1), flat("2.4", "12"));
    let later = negotiated(A, "claude-sonnet-4-5", date(2025, 12, 1), flat("2", "10"));
    let own = negotiated(O, "internal-llm", date(2025, 1, 1), flat("1", "1"));
    let catalog = shipped().unwrap().with_overrides(vec![later, sonnet, own]);
    let usage = u(1_000, 0, 0, 0, 500, 0);
    let cost = |model, when| {
        catalog
            .price(A, model, when, &usage)
            .map(|p| (p.cost.0, p.origin))
    };
    // 1,000 x 2,400 + 500 x 12,000 = 2,400,000 + 6,000,000
    assert_eq!(
        cost("claude-sonnet-4-5", day(2025, 9, 15)),
        Some((8_400_000, Origin::Override))
    );
    // the override names the model, so its dated id is negotiated too
    assert_eq!(
        cost("claude-sonnet-4-5-20250929", day(2025, 9, 15)),
        Some((8_400_000, Origin::Override))
    );
    // the day before: shipped, 3,000,000 + 7,500,000
    assert_eq!(
        cost("claude-sonnet-4-5", day(2025, 8, 31)),
        Some((10_500_000, Origin::Shipped))
    );
    // a later override replaces the earlier: 1,000 x 2,000 + 500 x 10,000
    assert_eq!(
        cost("claude-sonnet-4-5", day(2026, 1, 1)),
        Some((7_000_000, Origin::Override))
    );
    // other models keep the shipped price: 1,000 x 15,000 + 500 x 75,000
    assert_eq!(
        cost("claude-opus-4-1", day(2025, 9, 15)),
        Some((52_500_000, Origin::Shipped))
    );
    // a model only the tenant knows: 1,000 x 1,000 + 500 x 1,000
    let own = catalog
        .price(O, "internal-llm", day(2025, 9, 1), &usage)
        .map(|p| p.cost.0);
    assert_eq!(own, Some(1_500_000));
    // the shipped catalog itself is unchanged
    let plain = shipped()
        .unwrap()
        .price(A, "claude-sonnet-4-5", day(2025, 9, 15), &usage);
    assert_eq!(plain.map(|p| p.cost.0), Some(10_500_000));
}

#[test]
fn the_sum_is_rounded_once_half_up() {
    // $0.0375/Mtok is 37.5 nanos a token, $0.0125 is 12.5.
    let cheap = negotiated(O, "cheap", date(2025, 1, 1), flat("0.0375", "0.0125"));
    let catalog = Catalog::default().with_overrides(vec![cheap]);
    let cost = |usage: Usage| {
        catalog
            .price(O, "cheap", day(2025, 2, 1), &usage)
            .map(|p| p.cost.0)
    };
    // 37.5 + 12.5 = 50 (rounding each first would give 38 + 13 = 51)
    assert_eq!(cost(u(1, 0, 0, 0, 1, 0)), Some(50));
    // 37.5 rounds half up to 38
    assert_eq!(cost(u(1, 0, 0, 0, 0, 0)), Some(38));
    // 3 x 12.5 = 37.5 -> 38; 2 x 12.5 = 25
    assert_eq!(cost(u(0, 0, 0, 0, 3, 0)), Some(38));
    assert_eq!(cost(u(0, 0, 0, 0, 2, 0)), Some(25));
    // a billion-dollar call stays exact: 10^12 tokens x 37.5 = 37,500,000,000,000
    assert_eq!(
        cost(u(1_000_000_000_000, 0, 0, 0, 0, 0)),
        Some(37_500_000_000_000)
    );
}

#[test]
fn reasoning_with_its_own_price_is_split_out_of_output() {
    let mut prices = flat("1", "10");
    prices.reasoning = Some(parse_price("20").unwrap());
    let thinker = negotiated(O, "thinker", date(2025, 1, 1), prices);
    let catalog = Catalog::default().with_overrides(vec![thinker]);
    let usage = u(0, 0, 0, 0, 1_000, 400);
    let priced = catalog
        .price(O, "thinker", day(2025, 2, 1), &usage)
        .unwrap();
    // 600 x 10,000 + 400 x 20,000 = 6,000,000 + 8,000,000
    assert_eq!(priced.cost, Nanos(14_000_000));
    assert_eq!(
        (
            priced.breakdown.output.tokens,
            priced.breakdown.reasoning.tokens
        ),
        (600, 400)
    );
}

#[test]
fn a_tiered_override_is_chosen_by_prompt_size() {
    let mut o = negotiated(A, "claude-sonnet-4-5", date(2025, 1, 1), flat("2", "10"));
    o.tiers = vec![Tier {
        above: 100_000,
        prices: flat("4", "20"),
    }];
    let catalog = shipped().unwrap().with_overrides(vec![o]);
    let usage = u(50_000, 60_000, 0, 0, 1_000, 0);
    let priced = catalog
        .price(A, "claude-sonnet-4-5", day(2025, 2, 1), &usage)
        .unwrap();
    // 110,000 prompt tokens > 100,000; no cache price, so reads at input:
    // 50,000 x 4,000 + 60,000 x 4,000 + 1,000 x 20,000 = 200,000,000 + 240,000,000 + 20,000,000
    assert_eq!(
        (priced.cost, priced.tier_above),
        (Nanos(460_000_000), Some(100_000))
    );
}

#[test]
fn a_catalog_with_a_bad_price_is_refused_whole() {
    let file = |price: &str| {
        format!(
            r#"{{"source":"t","unit":"t","models":[{{"provider":"openai","model":"m","ids":["m"],
            "history":[{{"from":null,"prices":{{"input":"{price}","output":"1"}}}}]}}]}}"#
        )
    };
    assert!(shipped::parse(&file("1.5")).is_ok());
    for bad in ["-1", "0.0000000001", "1e-3", "abc"] {
        let err = shipped::parse(&file(bad))
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(err.contains("price") && err.contains(bad), "{bad}: {err}");
    }
    let unknown_provider = file("1").replace("openai", "mistral");
    assert!(shipped::parse(&unknown_provider).is_err());
}

#[test]
fn the_shipped_catalog_parses_and_covers_both_providers() {
    let catalog = shipped().unwrap();
    let count = |p| catalog.models().iter().filter(|m| m.provider == p).count();
    assert!(
        count(A) >= 20 && count(O) >= 80,
        "{} {}",
        count(A),
        count(O)
    );
    for m in catalog.models() {
        assert!(!m.history.is_empty(), "{}", m.model);
        assert!(
            m.history.windows(2).all(|w| w[0].from < w[1].from),
            "{}",
            m.model
        );
    }
}
