//! The price catalog's storage and administration: imported catalogs, each tenant's negotiated
//! overrides, the price book loaded from them at start-up, repricing unpriced calls, the price
//! routes and the alert for a model nobody has priced.
//!
//! The map: `model` (prices as decimal text, as the API and storage hold them), `store` (both
//! backends), `service` (load the book, import, overrides kept in step with the book, reprice),
//! `routes` (`/api/v1/prices`), `alerts` (the recorder's observer for unpriced calls).
//!
//! Invariant: the pure catalog (`gateway::prices`) does the arithmetic; everything here keeps
//! storage and the running price book in step, and prices only as exact nano-dollars.

pub mod alerts;
pub mod model;
pub mod routes;
pub mod service;
pub mod store;

pub use alerts::UnpricedAlerts;
pub use model::{PriceText, StoredPrices, TierText};
pub use service::{
    catalog_in_force, cost_of_row, import, load_book, reprice, ImportReport, Overrides,
    RepriceReport,
};
pub use store::{CatalogRow, OverrideRow, PriceStore};
