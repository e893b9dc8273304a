//! The LLM price catalog: what a call cost, exactly, from the prices in force on its day.
//!
//! The map: `decimal` (price text to integer nano-dollars per million tokens, no floats),
//! `model` (price sets, long-context tiers, dated histories, overrides, the priced result),
//! `catalog` (model lookup by id and dated id, choosing date and tier, the one rounding),
//! `book` (the catalog in force with each tenant's overrides, shared by the running service),
//! `shipped` (the bundled `data/llm-prices.json` beside it and its reader). docs/llm-prices.md explains
//! the formula and the data.
//!
//! Invariant: pure, no I/O; a cost is integer nano-dollars rounded once, half up, or `None`
//! when the model is unknown, never a guessed zero.

pub mod book;
pub mod catalog;
pub mod decimal;
pub mod model;
pub mod shipped;

#[cfg(test)]
mod tests;

pub use book::PriceBook;
pub use catalog::Catalog;
pub use decimal::{format_price, parse_price, NanosPerMtok};
pub use model::{Breakdown, Dated, Line, ModelPrices, Origin, Override, PriceSet, Priced, Tier};
pub use shipped::{parse, shipped};
