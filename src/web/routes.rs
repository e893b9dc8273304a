//! Every route of the API, in one place.
//!
//! Invariant: deny by default. A route is reachable without authentication only if it is listed in
//! `public()`; every other route is added in `protected()`, behind `auth::require_principal`.

use axum::extract::FromRef;
use axum::middleware::from_fn_with_state;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{health, openapi};
use crate::app::AppState;
use crate::budgets::routes as budgets;
use crate::detect::routes as detect;
use crate::gateway::calls::routes as llm;
use crate::gateway::pricing::routes as prices;
use crate::gateway::providers::routes as providers;
use crate::identity::account::routes::{me, password};
use crate::identity::login::routes as login;
use crate::identity::sessions::routes::{self as session_routes, refresh};
use crate::identity::{api_keys, settings, setup, totp, users};
use crate::ledger::routes as ledger;
use crate::plaid::routes as plaid;
use crate::ratelimit::Group;
use crate::{audit, auth, security, tenants};

/// The public allow-list: the only routes that answer without authentication.
fn public() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(openapi::document))
        .routes(routes!(login::login))
        .routes(routes!(refresh::refresh))
        .routes(routes!(setup::routes::complete))
        .routes(routes!(setup::routes::page))
        // Plaid calls it without our credentials; it verifies Plaid's signed JWT itself.
        .routes(routes!(plaid::webhook))
}

/// Everything else.
fn protected(state: &AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(tenants::routes::list, tenants::routes::create))
        .routes(routes!(tenants::routes::get, tenants::routes::delete))
        .routes(routes!(security::routes::list))
        .routes(routes!(audit::routes::list))
        .routes(routes!(session_routes::list))
        .routes(routes!(session_routes::delete))
        .routes(routes!(session_routes::logout))
        .routes(routes!(session_routes::logout_all))
        .routes(routes!(password::change))
        .routes(routes!(totp::routes::setup))
        .routes(routes!(totp::routes::enable))
        .routes(routes!(totp::routes::disable))
        // Account management: the caller's account, their tenant's users, API keys and settings.
        .routes(routes!(me::me))
        .routes(routes!(users::routes::list, users::routes::create))
        .routes(routes!(
            users::routes::get,
            users::routes::update,
            users::routes::delete
        ))
        .routes(routes!(users::routes::sessions::unlock))
        .routes(routes!(users::routes::sessions::list))
        .routes(routes!(users::routes::sessions::end))
        .routes(routes!(api_keys::routes::list, api_keys::routes::create))
        .routes(routes!(api_keys::routes::revoke))
        .routes(routes!(settings::routes::get, settings::routes::update))
        .routes(routes!(ledger::accounts::list, ledger::accounts::create))
        .routes(routes!(ledger::accounts::get))
        .routes(routes!(ledger::transactions::list))
        .routes(routes!(ledger::export::export))
        .routes(routes!(ledger::transactions::get))
        .routes(routes!(ledger::vendors::list, ledger::vendors::add))
        .routes(routes!(ledger::vendors::delete))
        .routes(routes!(ledger::mappings::list, ledger::mappings::put))
        .routes(routes!(ledger::imports::list, ledger::imports::create))
        .routes(routes!(detect::anomalies::list))
        .routes(routes!(detect::anomalies::get))
        .routes(routes!(detect::anomalies::review))
        .routes(routes!(detect::anomalies::assign))
        .routes(routes!(detect::config::get, detect::config::put))
        .routes(routes!(detect::config::retrain))
        .routes(routes!(detect::config::run))
        .routes(routes!(detect::snoozes::list, detect::snoozes::create))
        .routes(routes!(detect::snoozes::delete))
        .routes(routes!(detect::backtest::backtest))
        .routes(routes!(detect::findings::benford))
        .routes(routes!(plaid::link_token))
        .routes(routes!(plaid::list, plaid::link))
        .routes(routes!(plaid::remove))
        .routes(routes!(providers::list, providers::set))
        .routes(routes!(providers::delete))
        .routes(routes!(llm::calls::list))
        .routes(routes!(llm::calls::get))
        .routes(routes!(llm::usage::usage))
        .routes(routes!(prices::list))
        .routes(routes!(prices::overrides, prices::put, prices::delete))
        .routes(routes!(budgets::list, budgets::create))
        .routes(routes!(budgets::get, budgets::update, budgets::delete))
        .routes(routes!(budgets::status))
        .route_layer(from_fn_with_state(
            auth::Gate::from_ref(state),
            auth::require_principal,
        ))
}

/// The routes and the OpenAPI document generated from them.
pub fn build(state: &AppState) -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(public())
        .merge(protected(state))
        .split_for_parts()
}

/// Which rate-limit group a route template belongs to. Unmatched requests count as `Api`.
/// `Auth` holds the routes that check a password, a code or a token: the brute-force targets.
pub fn group_of(route: Option<&str>) -> Group {
    match route {
        Some("/healthz" | "/readyz") => Group::Health,
        Some(
            "/api/v1/auth/login"
            | "/api/v1/auth/refresh"
            | "/api/v1/setup"
            | "/api/v1/auth/password"
            | "/api/v1/auth/totp/disable",
        ) => Group::Auth,
        Some(route) if crate::web::limits::is_gateway(route) => Group::Gateway,
        _ => Group::Api,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_routes_have_their_own_rate_limit_group() {
        assert_eq!(group_of(Some("/v1/chat/completions")), Group::Gateway);
        assert_eq!(group_of(Some("/v1/messages")), Group::Gateway);
        assert_eq!(group_of(Some("/api/v1/transactions")), Group::Api);
        assert_eq!(group_of(Some("/api/v1/auth/login")), Group::Auth);
        assert_eq!(group_of(None), Group::Api);
    }
}
