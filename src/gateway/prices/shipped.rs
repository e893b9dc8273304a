//! The shipped price data (`data/llm-prices.json`, converted from genai-prices; see
//! prices/data/README.md) and the reader that turns its decimal text into a [`Catalog`].
//!
//! Invariant: every price is parsed as exact decimal text; a file with a bad price, date or
//! provider is refused whole, never loaded in part.

use chrono::NaiveDate;
use serde::Deserialize;

use super::catalog::Catalog;
use super::decimal::parse_price;
use super::model::{Dated, ModelPrices, PriceSet, Tier};
use crate::gateway::Provider;
use crate::Error;

const SHIPPED: &str = include_str!("data/llm-prices.json");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[allow(dead_code)]
    source: String,
    #[allow(dead_code)]
    unit: String,
    models: Vec<FileModel>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileModel {
    provider: Provider,
    model: String,
    ids: Vec<String>,
    #[serde(default)]
    prefixes: Vec<String>,
    history: Vec<FileDated>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDated {
    from: Option<NaiveDate>,
    prices: FilePrices,
    #[serde(default)]
    tiers: Vec<FileTier>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileTier {
    above: u64,
    prices: FilePrices,
}

/// Decimal text, dollars per million tokens.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FilePrices {
    input: String,
    output: Option<String>,
    cache_read: Option<String>,
    cache_write_5m: Option<String>,
    cache_write_1h: Option<String>,
    reasoning: Option<String>,
}

impl FilePrices {
    fn parse(&self) -> Result<PriceSet, Error> {
        let opt = |p: &Option<String>| p.as_deref().map(parse_price).transpose();
        Ok(PriceSet {
            input: parse_price(&self.input)?,
            // Models priced by input alone (embeddings) have no output.
            output: opt(&self.output)?.unwrap_or(0),
            cache_read: opt(&self.cache_read)?,
            cache_write_5m: opt(&self.cache_write_5m)?,
            cache_write_1h: opt(&self.cache_write_1h)?,
            reasoning: opt(&self.reasoning)?,
        })
    }
}

/// The catalog AuditPulse ships.
pub fn shipped() -> Result<Catalog, Error> {
    parse(SHIPPED)
}

/// Reads a catalog file in the shipped format.
pub fn parse(text: &str) -> Result<Catalog, Error> {
    let file: File = serde_json::from_str(text)
        .map_err(|e| Error::Config(format!("the LLM price catalog is invalid: {e}")))?;
    let models = file
        .models
        .into_iter()
        .map(model)
        .collect::<Result<_, _>>()?;
    Ok(Catalog::new(models))
}

fn model(m: FileModel) -> Result<ModelPrices, Error> {
    let mut history = m
        .history
        .iter()
        .map(|d| {
            let mut tiers = d
                .tiers
                .iter()
                .map(|t| {
                    Ok(Tier {
                        above: t.above,
                        prices: t.prices.parse()?,
                    })
                })
                .collect::<Result<Vec<_>, Error>>()?;
            tiers.sort_by_key(|t| t.above);
            Ok(Dated {
                from: d.from,
                base: d.prices.parse()?,
                tiers,
            })
        })
        .collect::<Result<Vec<_>, Error>>()
        .map_err(|e| Error::Config(format!("LLM prices of {}: {e}", m.model)))?;
    history.sort_by_key(|d| d.from);
    Ok(ModelPrices {
        provider: m.provider,
        model: m.model,
        ids: m.ids,
        prefixes: m.prefixes,
        history,
    })
}
