//! `worst_case` against arithmetic done by hand on a small catalog, and against every usage a
//! request could produce; `next_model` along chains. Prices are nano-dollars per million tokens
//! ($1 per million tokens = 1,000,000,000, i.e. 1,000 nano-dollars per token).

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{next_model, worst_case};
use crate::gateway::prices::{Catalog, Dated, ModelPrices, Override, PriceSet, Tier};
use crate::gateway::{Nanos, Provider, Usage};

const A: Provider = Provider::Anthropic;
const O: Provider = Provider::OpenAi;
/// $1 per million tokens.
const USD: u64 = 1_000_000_000;

fn day(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 12, 0, 0)
        .single()
        .unwrap_or_default()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

fn set(input: u64, output: u64) -> PriceSet {
    PriceSet {
        input,
        output,
        ..PriceSet::default()
    }
}

fn model(provider: Provider, id: &str, history: Vec<Dated>) -> ModelPrices {
    ModelPrices {
        provider,
        model: id.into(),
        ids: vec![id.into()],
        prefixes: Vec::new(),
        history,
    }
}

fn since_always(base: PriceSet, tiers: Vec<Tier>) -> Vec<Dated> {
    vec![Dated {
        from: None,
        base,
        tiers,
    }]
}

/// Sonnet-shaped: cache writes above input, a long-context tier above 200,000 tokens.
fn sonnet() -> ModelPrices {
    let base = PriceSet {
        cache_read: Some(USD * 3 / 10),
        cache_write_5m: Some(USD * 375 / 100),
        cache_write_1h: Some(USD * 6),
        ..set(USD * 3, USD * 15)
    };
    let long = PriceSet {
        cache_read: Some(USD * 6 / 10),
        cache_write_5m: Some(USD * 75 / 10),
        cache_write_1h: Some(USD * 12),
        ..set(USD * 6, USD * 225 / 10)
    };
    let mut m = model(
        A,
        "claude-sonnet-test",
        since_always(
            base,
            vec![Tier {
                above: 200_000,
                prices: long,
            }],
        ),
    );
    m.prefixes = vec!["claude-sonnet-test".into()];
    m
}

fn catalog() -> Catalog {
    let gpt = PriceSet {
        cache_read: Some(USD * 125 / 100),
        ..set(USD * 25 / 10, USD * 10)
    };
    let reasoning = PriceSet {
        reasoning: Some(USD * 8),
        ..set(USD, USD * 4)
    };
    // Nonsense data a tenant could still enter: a tier cheaper than the base.
    let odd = since_always(
        set(USD * 2, USD * 2),
        vec![Tier {
            above: 100,
            prices: set(USD, USD),
        }],
    );
    let repriced = vec![
        Dated {
            from: None,
            base: set(USD, USD),
            tiers: Vec::new(),
        },
        Dated {
            from: Some(date(2026, 1, 1)),
            base: set(USD * 2, USD * 3),
            tiers: Vec::new(),
        },
    ];
    let later = vec![Dated {
        from: Some(date(2026, 6, 1)),
        base: set(USD, USD),
        tiers: Vec::new(),
    }];
    Catalog::new(vec![
        model(O, "gpt-test", since_always(gpt, Vec::new())),
        model(O, "o-test", since_always(reasoning, Vec::new())),
        model(O, "odd-test", odd),
        model(O, "repriced-test", repriced),
        model(O, "later-test", later),
        model(O, "tiny-test", since_always(set(1, 1), Vec::new())),
        model(
            O,
            "huge-test",
            since_always(set(u64::MAX, u64::MAX), Vec::new()),
        ),
        sonnet(),
    ])
}

fn wc(provider: Provider, model: &str, prompt: u64, max: Option<u64>) -> Option<Nanos> {
    worst_case(
        &catalog(),
        provider,
        model,
        day(2025, 9, 1),
        prompt,
        max,
        4_096,
    )
}

#[test]
fn the_worst_case_is_hand_arithmetic() {
    // 1,000 x 2,500 + 500 x 10,000 = 2,500,000 + 5,000,000
    assert_eq!(wc(O, "gpt-test", 1_000, Some(500)), Some(Nanos(7_500_000)));
    // no limit: the ceiling, 1,000 x 2,500 + 4,096 x 10,000 = 2,500,000 + 40,960,000
    assert_eq!(wc(O, "gpt-test", 1_000, None), Some(Nanos(43_460_000)));
    // embeddings (no output): 1,000 x 2,500
    assert_eq!(wc(O, "gpt-test", 1_000, Some(0)), Some(Nanos(2_500_000)));
    // reasoning dearer than output: 10 x 1,000 + 10 x 8,000
    assert_eq!(wc(O, "o-test", 10, Some(10)), Some(Nanos(90_000)));
    // an empty body and no output costs nothing
    assert_eq!(wc(O, "gpt-test", 0, Some(0)), Some(Nanos(0)));
}

#[test]
fn a_cache_write_dearer_than_input_prices_the_prompt() {
    // 1,000 x 6,000 (1-hour write) + 100 x 15,000 = 6,000,000 + 1,500,000
    assert_eq!(
        wc(A, "claude-sonnet-test", 1_000, Some(100)),
        Some(Nanos(7_500_000))
    );
    // A dated snapshot id is priced as the model it names.
    assert_eq!(
        wc(A, "claude-sonnet-test-20250929", 1_000, Some(100)),
        Some(Nanos(7_500_000))
    );
    // The bound is reached: the whole prompt written to the 1-hour cache, all output used.
    let dearest = Usage {
        cache_write_1h: 1_000,
        output: 100,
        ..Usage::default()
    };
    let priced = catalog().price(A, "claude-sonnet-test", day(2025, 9, 1), &dearest);
    assert_eq!(priced.map(|p| p.cost), Some(Nanos(7_500_000)));
}

#[test]
fn the_prompt_size_chooses_the_long_context_tier() {
    // exactly 200,000 is not above the threshold: 200,000 x 6,000
    assert_eq!(
        wc(A, "claude-sonnet-test", 200_000, Some(0)),
        Some(Nanos(1_200_000_000))
    );
    // 200,001 x 12,000 + 1,000 x 22,500 = 2,400,012,000 + 22,500,000
    assert_eq!(
        wc(A, "claude-sonnet-test", 200_001, Some(1_000)),
        Some(Nanos(2_422_512_000))
    );
    // A tier cheaper than the base never lowers the bound below a shorter prompt's price:
    // 1,000 x 2,000 + 10 x 2,000
    assert_eq!(wc(O, "odd-test", 1_000, Some(10)), Some(Nanos(2_020_000)));
}

#[test]
fn the_prices_in_force_on_the_day_and_the_tenants_override_are_used() {
    let c = catalog();
    let at = |d| worst_case(&c, O, "repriced-test", d, 1_000, Some(1_000), 0);
    // 1,000 x 1,000 + 1,000 x 1,000
    assert_eq!(at(day(2025, 12, 31)), Some(Nanos(2_000_000)));
    // 1,000 x 2,000 + 1,000 x 3,000
    assert_eq!(at(day(2026, 1, 2)), Some(Nanos(5_000_000)));
    // before a model's first price it has none
    assert_eq!(wc(O, "later-test", 1_000, Some(1)), None);

    let negotiated = c.with_overrides(vec![Override {
        provider: O,
        model: "gpt-test".into(),
        from: date(2025, 1, 1),
        base: set(USD * 5, USD * 20),
        tiers: Vec::new(),
    }]);
    // 1,000 x 5,000 + 500 x 20,000 = 5,000,000 + 10,000,000
    let bound = worst_case(
        &negotiated,
        O,
        "gpt-test",
        day(2025, 9, 1),
        1_000,
        Some(500),
        0,
    );
    assert_eq!(bound, Some(Nanos(15_000_000)));
}

#[test]
fn a_fraction_of_a_nano_dollar_rounds_up_and_huge_numbers_saturate() {
    // 1 token x 1 nano-dollar per million tokens: a millionth of a nano-dollar, rounded up.
    assert_eq!(wc(O, "tiny-test", 1, Some(0)), Some(Nanos(1)));
    assert_eq!(wc(O, "tiny-test", 1_000_000, Some(1)), Some(Nanos(2)));
    assert_eq!(
        wc(O, "huge-test", u64::MAX, Some(u64::MAX)),
        Some(Nanos(i64::MAX))
    );
    assert_eq!(wc(O, "gpt-test", u64::MAX, None), Some(Nanos(i64::MAX)));
    assert_eq!(wc(O, "gpt-test", 0, Some(u64::MAX)), Some(Nanos(i64::MAX)));
}

#[test]
fn an_unknown_model_has_no_worst_case() {
    assert_eq!(wc(O, "gpt-unknown", 1_000, Some(10)), None);
    // known, but only under the other provider
    assert_eq!(wc(O, "claude-sonnet-test", 1_000, Some(10)), None);
}

/// `parts` numbers adding up to at most `total`.
fn split(rng: &mut ChaCha8Rng, total: u64, parts: usize) -> Vec<u64> {
    let mut left = rng.gen_range(0..=total);
    let mut out = Vec::with_capacity(parts);
    for _ in 1..parts {
        let part = rng.gen_range(0..=left);
        out.push(part);
        left -= part;
    }
    out.push(left);
    out
}

#[test]
fn no_usage_the_request_allows_costs_more_than_its_worst_case() {
    let c = catalog();
    let mut rng = ChaCha8Rng::seed_from_u64(20261204);
    let models = [
        (O, "gpt-test"),
        (O, "o-test"),
        (O, "odd-test"),
        (O, "tiny-test"),
        (O, "huge-test"),
        (A, "claude-sonnet-test"),
    ];
    let at = day(2025, 9, 1);
    for _ in 0..20_000 {
        let (provider, model) = models[rng.gen_range(0..models.len())];
        // Around the tier thresholds as often as anywhere.
        let prompt_bytes = match rng.gen_range(0..3) {
            0 => rng.gen_range(0..1_000),
            1 => rng.gen_range(90..210) * 1_000 + rng.gen_range(0..2_000),
            _ => rng.gen_range(0..u64::from(u32::MAX)),
        };
        let max = rng.gen_range(0..200_000);
        let input = split(&mut rng, prompt_bytes, 4);
        let output = rng.gen_range(0..=max);
        let usage = Usage {
            input: input[0],
            cache_read: input[1],
            cache_write_5m: input[2],
            cache_write_1h: input[3],
            output,
            reasoning: rng.gen_range(0..=output),
        };
        let bound = worst_case(&c, provider, model, at, prompt_bytes, Some(max), 0);
        let cost = c.price(provider, model, at, &usage).map(|p| p.cost);
        match (cost, bound) {
            (Some(cost), Some(bound)) => {
                assert!(
                    cost <= bound,
                    "{model} {usage:?} {prompt_bytes} {max}: {cost:?} > {bound:?}"
                )
            }
            other => panic!("{model}: {other:?}"),
        }
    }
}

fn chain(models: &[&str]) -> Vec<String> {
    models.iter().map(|m| m.to_string()).collect()
}

fn swap_catalog() -> Catalog {
    let flat = || since_always(set(USD, USD), Vec::new());
    let mut turbo = model(O, "gpt-4-turbo", flat());
    turbo.prefixes = vec!["gpt-4-turbo".into()];
    Catalog::new(vec![
        turbo,
        model(O, "gpt-3.5-turbo", flat()),
        model(O, "gpt-4o-mini", flat()),
        sonnet(),
        model(A, "claude-haiku-test", flat()),
    ])
}

fn next(models: &[&str], requested: &str, provider: Provider) -> Option<String> {
    next_model(&chain(models), requested, provider, &swap_catalog())
}

#[test]
fn the_next_model_is_the_one_after_the_requested_one_on_the_same_wire_format() {
    let mixed = [
        "gpt-4-turbo",
        "claude-haiku-test",
        "gpt-4o-mini",
        "gpt-3.5-turbo",
    ];
    assert_eq!(
        next(&mixed, "gpt-4-turbo", O).as_deref(),
        Some("gpt-4o-mini")
    );
    assert_eq!(
        next(&mixed, "gpt-4o-mini", O).as_deref(),
        Some("gpt-3.5-turbo")
    );
    assert_eq!(next(&mixed, "gpt-3.5-turbo", O), None, "last in the chain");
    assert_eq!(next(&mixed, "gpt-4o", O), None, "not in the chain");

    let claude = ["claude-sonnet-test", "gpt-4o-mini", "claude-haiku-test"];
    assert_eq!(
        next(&claude, "claude-sonnet-test", A).as_deref(),
        Some("claude-haiku-test")
    );
    // Only models of the other provider follow: nowhere to go.
    assert_eq!(
        next(
            &["claude-sonnet-test", "gpt-4o-mini"],
            "claude-sonnet-test",
            A
        ),
        None
    );
    // A model the catalog does not know (a tenant's own deployment) is not skipped.
    let own = ["gpt-4-turbo", "claude-haiku-test", "acme-small"];
    assert_eq!(next(&own, "gpt-4-turbo", O).as_deref(), Some("acme-small"));
    // The same model twice is no swap: the next different one is.
    let twice = ["gpt-4-turbo", "gpt-4-turbo", "gpt-3.5-turbo"];
    assert_eq!(
        next(&twice, "gpt-4-turbo", O).as_deref(),
        Some("gpt-3.5-turbo")
    );
    assert_eq!(next(&[], "gpt-4-turbo", O), None);
}

#[test]
fn a_dated_snapshot_of_a_chain_entry_moves_down_the_chain_too() {
    let c = ["gpt-4-turbo", "gpt-3.5-turbo"];
    assert_eq!(
        next(&c, "gpt-4-turbo-2024-04-09", O).as_deref(),
        Some("gpt-3.5-turbo")
    );
    let c = ["claude-sonnet-test", "claude-haiku-test"];
    for snapshot in ["claude-sonnet-test-20250929", "claude-sonnet-test@20250929"] {
        assert_eq!(
            next(&c, snapshot, A).as_deref(),
            Some("claude-haiku-test"),
            "{snapshot}"
        );
    }
    // The snapshot's own later entry is the same model: skipped.
    let c = ["gpt-4-turbo", "gpt-4-turbo-2024-04-09", "gpt-4o-mini"];
    assert_eq!(next(&c, "gpt-4-turbo", O).as_deref(), Some("gpt-4o-mini"));
    // Not a date, though the catalog's prefix prices it as gpt-4-turbo: a different model.
    assert_eq!(
        next(&["gpt-4-turbo", "gpt-3.5-turbo"], "gpt-4-turbo-preview", O),
        None
    );
    // A dated name the catalog does not know is matched exactly or not at all.
    assert_eq!(
        next(&["acme-large", "acme-small"], "acme-large-20250101", O),
        None
    );
    assert_eq!(
        next(&["acme-large", "acme-small"], "acme-large", O).as_deref(),
        Some("acme-small")
    );
    // Matching is exact otherwise: case and spacing count.
    assert_eq!(
        next(&["gpt-4-turbo", "gpt-3.5-turbo"], "GPT-4-turbo", O),
        None
    );
}

#[test]
fn images_and_files_fetched_by_reference_are_reserved_for() {
    use super::{prompt_token_bound, REFERENCE_TOKENS};
    let plain = br#"{"model":"gpt-4o","messages":[{"role":"user","content":"a \"url\": here"}]}"#;
    assert_eq!(prompt_token_bound(plain), plain.len() as u64);
    let image = br#"{"model":"gpt-4o","messages":[{"role":"user","content":[
        {"type":"text","text":"what is this?"},
        {"type":"image_url","image_url":{"url" : "https://example.com/a.png"}},
        {"type":"image_url","image_url":{"url":"https://example.com/b.png","detail":"high"}}]}]}"#;
    assert_eq!(
        prompt_token_bound(image),
        image.len() as u64 + 2 * REFERENCE_TOKENS
    );
    let file = br#"{"model":"gpt-4.1","input":[{"role":"user","content":[{"type":"input_file","file_id":"file-abc"}]}]}"#;
    assert_eq!(
        prompt_token_bound(file),
        file.len() as u64 + REFERENCE_TOKENS
    );
}
