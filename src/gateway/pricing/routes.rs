//! `GET /api/v1/prices` (the tenant's view of the catalog, `ledger:read`) and
//! `GET/PUT/DELETE /api/v1/prices/overrides` (the tenant's negotiated rates, read with
//! `ledger:read`, changed by its administrators with `providers:manage`).
//!
//! Invariant: every handler checks the permission and fixes the caller's own tenant before any
//! storage call; a stored override is in the price book before the response, so the next call
//! is priced with it; every change is an audit event naming provider, model and date.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::model::{PriceText, StoredPrices, TierText};
use super::service::Overrides;
use super::store::OverrideRow;
use crate::auth::{Permission, Principal, Scoped};
use crate::domain::{time, TenantId};
use crate::error::{Error, FieldError, Result};
use crate::events::Events;
use crate::gateway::prices::{Catalog, Override};
use crate::gateway::Provider;
use crate::store::Time;
use crate::web::{ClientIp, ValidJson, ValidQuery, Validate};

/// Model names longer than this are refused.
const MAX_MODEL: usize = 200;

/// What the price routes need.
#[derive(Clone)]
pub struct PricesState {
    pub overrides: Overrides,
    pub events: Arc<Events>,
}

fn open(principal: &Principal, permission: Permission) -> Result<TenantId> {
    let handle = Scoped::open_tenant(principal, permission, Arc::new(()))?;
    handle.tenant().ok_or(Error::Forbidden)
}

/// Where a model's prices come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = LlmPriceSource)]
#[serde(rename_all = "snake_case")]
pub enum PriceSource {
    /// The shipped or imported catalog.
    Catalog,
    /// The tenant's negotiated rate.
    Override,
}

/// One model's prices in force today for the tenant.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = LlmModelPrice)]
pub struct ModelPrice {
    pub provider: Provider,
    pub model: String,
    pub source: PriceSource,
    /// The day these prices took effect; `null`: since the model existed.
    pub effective_from: Option<NaiveDate>,
    pub prices: PriceText,
    pub tiers: Vec<TierText>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = LlmModelPriceList)]
pub struct ModelPriceList {
    pub items: Vec<ModelPrice>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PriceQuery {
    /// Only this provider's models (`openai`, `anthropic`).
    pub provider: Option<Provider>,
    /// Only models whose id contains this text.
    pub model: Option<String>,
}

/// The tenant's view of the catalog in force: the price of every model today, the tenant's
/// overrides in place of the catalog's prices where it has one.
#[utoipa::path(get, path = "/api/v1/prices", tag = "prices", params(PriceQuery),
    security(("bearer" = [])),
    responses((status = 200, body = ModelPriceList), (status = 400, body = crate::web::ErrorEnvelope),
        (status = 403, body = crate::web::ErrorEnvelope)))]
pub async fn list(
    State(state): State<PricesState>,
    principal: Principal,
    query: std::result::Result<ValidQuery<PriceQuery>, Error>,
) -> Result<Json<ModelPriceList>> {
    let tenant = open(&principal, Permission::LedgerRead)?;
    let ValidQuery(q) = query?;
    let book = &state.overrides.book;
    let today = time::now().date_naive();
    let items = view(&book.base(), &book.overrides(tenant), today)
        .into_iter()
        .filter(|m| q.provider.is_none_or(|p| p == m.provider))
        .filter(|m| q.model.as_deref().is_none_or(|s| m.model.contains(s)))
        .collect();
    Ok(Json(ModelPriceList { items }))
}

/// Every catalog model's prices on `day`, each replaced by the latest override in force then.
fn view(catalog: &Catalog, overrides: &[Override], day: NaiveDate) -> Vec<ModelPrice> {
    let in_force = |provider: Provider, model: &str| {
        overrides
            .iter()
            .filter(|o| o.provider == provider && o.model == model && o.from <= day)
            .max_by_key(|o| o.from)
    };
    let of_override = |o: &Override| ModelPrice {
        provider: o.provider,
        model: o.model.clone(),
        source: PriceSource::Override,
        effective_from: Some(o.from),
        prices: PriceText::of(&o.base),
        tiers: o.tiers.iter().map(TierText::of).collect(),
    };
    let mut items: Vec<ModelPrice> = Vec::new();
    for m in catalog.models() {
        if let Some(o) = in_force(m.provider, &m.model) {
            items.push(of_override(o));
        } else if let Some(d) = m.at(day) {
            items.push(ModelPrice {
                provider: m.provider,
                model: m.model.clone(),
                source: PriceSource::Catalog,
                effective_from: d.from,
                prices: PriceText::of(&d.base),
                tiers: d.tiers.iter().map(TierText::of).collect(),
            });
        }
    }
    for o in overrides {
        let known = items
            .iter()
            .any(|i| i.provider == o.provider && i.model == o.model);
        if !known && in_force(o.provider, &o.model).is_some_and(|f| f.from == o.from) {
            items.push(of_override(o));
        }
    }
    items
}

/// A negotiated rate, as set and listed.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = LlmPriceOverride)]
#[serde(deny_unknown_fields)]
pub struct PriceOverride {
    pub provider: Provider,
    /// The model id as the provider names it (the catalog's id, or one it does not know).
    #[schema(pattern = "^[!-~]{1,200}$")]
    pub model: String,
    /// In force for calls made from the start of this day (UTC) on.
    pub effective_from: NaiveDate,
    /// USD per million tokens, decimal text such as `"2.5"`.
    #[schema(pattern = r"^\s*([0-9]{1,10}(\.[0-9]{1,9})?|\.[0-9]{1,9})\s*$")]
    pub input: String,
    #[schema(pattern = r"^\s*([0-9]{1,10}(\.[0-9]{1,9})?|\.[0-9]{1,9})\s*$")]
    pub output: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^\s*([0-9]{1,10}(\.[0-9]{1,9})?|\.[0-9]{1,9})\s*$")]
    pub cache_read: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^\s*([0-9]{1,10}(\.[0-9]{1,9})?|\.[0-9]{1,9})\s*$")]
    pub cache_write_5m: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^\s*([0-9]{1,10}(\.[0-9]{1,9})?|\.[0-9]{1,9})\s*$")]
    pub cache_write_1h: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^\s*([0-9]{1,10}(\.[0-9]{1,9})?|\.[0-9]{1,9})\s*$")]
    pub reasoning: Option<String>,
    /// Higher prices above a prompt size, at most 8, each threshold once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 8)]
    pub tiers: Vec<TierText>,
}

impl PriceOverride {
    fn stored(&self) -> StoredPrices {
        StoredPrices {
            prices: PriceText {
                input: self.input.clone(),
                output: self.output.clone(),
                cache_read: self.cache_read.clone(),
                cache_write_5m: self.cache_write_5m.clone(),
                cache_write_1h: self.cache_write_1h.clone(),
                reasoning: self.reasoning.clone(),
            },
            tiers: self.tiers.clone(),
        }
    }

    fn of(row: &OverrideRow) -> Result<Self> {
        let o = super::service::to_override(row)?;
        Ok(PriceOverride {
            provider: o.provider,
            model: o.model,
            effective_from: o.from,
            input: crate::gateway::prices::format_price(o.base.input),
            output: crate::gateway::prices::format_price(o.base.output),
            cache_read: PriceText::of(&o.base).cache_read,
            cache_write_5m: PriceText::of(&o.base).cache_write_5m,
            cache_write_1h: PriceText::of(&o.base).cache_write_1h,
            reasoning: PriceText::of(&o.base).reasoning,
            tiers: o.tiers.iter().map(TierText::of).collect(),
        })
    }
}

fn check_model(model: &str) -> Option<FieldError> {
    let n = model.chars().count();
    let printable = model.chars().all(|c| !c.is_control() && !c.is_whitespace());
    (n == 0 || n > MAX_MODEL || !printable).then(|| {
        FieldError::new(
            "model",
            "must be 1 to 200 printable characters without spaces",
        )
    })
}

impl Validate for PriceOverride {
    fn validate(&self) -> Vec<FieldError> {
        let mut errors: Vec<FieldError> = check_model(&self.model).into_iter().collect();
        if let Err(e) = self.stored().parse() {
            errors.extend(e);
        }
        errors
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = LlmPriceOverrideList)]
pub struct PriceOverrideList {
    pub items: Vec<PriceOverride>,
}

/// The tenant's negotiated rates, every date, by provider, model and date.
#[utoipa::path(get, path = "/api/v1/prices/overrides", tag = "prices",
    security(("bearer" = [])),
    responses((status = 200, body = PriceOverrideList), (status = 403, body = crate::web::ErrorEnvelope)))]
pub async fn overrides(
    State(state): State<PricesState>,
    principal: Principal,
) -> Result<Json<PriceOverrideList>> {
    let tenant = open(&principal, Permission::LedgerRead)?;
    let rows = state.overrides.list(tenant).await?;
    let items = rows.iter().map(PriceOverride::of).collect::<Result<_>>()?;
    Ok(Json(PriceOverrideList { items }))
}

/// Set a negotiated rate for a model from a date; the same model and date again replaces it.
/// Calls priced from now on use it.
#[utoipa::path(put, path = "/api/v1/prices/overrides", tag = "prices", request_body = PriceOverride,
    security(("bearer" = [])),
    responses((status = 200, body = PriceOverride), (status = 403, body = crate::web::ErrorEnvelope),
        (status = 422, body = crate::web::ErrorEnvelope)))]
pub async fn put(
    State(state): State<PricesState>,
    principal: Principal,
    ip: ClientIp,
    ValidJson(body): ValidJson<PriceOverride>,
) -> Result<Json<PriceOverride>> {
    let tenant = open(&principal, Permission::ProvidersManage)?;
    let prices_json = serde_json::to_string(&body.stored())
        .map_err(|e| Error::Internal(anyhow::anyhow!("override prices: {e}")))?;
    let row = OverrideRow {
        tenant_id: tenant,
        provider: body.provider.as_str().to_owned(),
        model: body.model.clone(),
        effective_from: body.effective_from,
        prices_json,
        created_by: principal.id.clone(),
        created_at: Time(time::now()),
    };
    let replaced = state.overrides.put(&row).await?;
    state.events.admin_action(
        &principal.id,
        ip.0,
        "gateway.price_override_set",
        Some(("llm_price_override", target(&row))),
        Some(tenant),
        json!({
            "provider": body.provider,
            "model": body.model,
            "effective_from": body.effective_from,
            "prices": body.stored(),
            "replaced": replaced,
        }),
    );
    Ok(Json(PriceOverride::of(&row)?))
}

fn target(row: &OverrideRow) -> String {
    format!("{}/{}@{}", row.provider, row.model, row.effective_from)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OverrideKey {
    pub provider: Provider,
    pub model: String,
    pub effective_from: NaiveDate,
}

/// Delete one negotiated rate: the model's calls are priced by the catalog (or an earlier
/// override) again.
#[utoipa::path(delete, path = "/api/v1/prices/overrides", tag = "prices", params(OverrideKey),
    security(("bearer" = [])),
    responses((status = 204, description = "deleted"), (status = 400, body = crate::web::ErrorEnvelope),
        (status = 403, body = crate::web::ErrorEnvelope), (status = 404, body = crate::web::ErrorEnvelope)))]
pub async fn delete(
    State(state): State<PricesState>,
    principal: Principal,
    ip: ClientIp,
    query: std::result::Result<ValidQuery<OverrideKey>, Error>,
) -> Result<StatusCode> {
    let tenant = open(&principal, Permission::ProvidersManage)?;
    let ValidQuery(key) = query?;
    if check_model(&key.model).is_some() {
        return Err(Error::NotFound);
    }
    let gone = state
        .overrides
        .delete(tenant, key.provider, &key.model, key.effective_from)
        .await?;
    if !gone {
        return Err(Error::NotFound);
    }
    state.events.admin_action(
        &principal.id,
        ip.0,
        "gateway.price_override_delete",
        Some((
            "llm_price_override",
            format!("{}/{}@{}", key.provider.as_str(), key.model, key.effective_from),
        )),
        Some(tenant),
        json!({ "provider": key.provider, "model": key.model, "effective_from": key.effective_from }),
    );
    Ok(StatusCode::NO_CONTENT)
}
