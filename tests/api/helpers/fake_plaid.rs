//! A fake Plaid: a real HTTP server on 127.0.0.1:0 in the test process speaking Plaid's wire
//! format (credentials in the body, `Plaid-Version`, Plaid's error objects) for every endpoint
//! AuditPulse calls. It holds items, accounts and a per-item change log that
//! `/transactions/sync` pages through; it signs webhooks with its own ES256 key and serves that
//! key at `/webhook_verification_key/get`. Tests tell it to paginate (page size is the client's
//! `count`), to fail a call (item login required, 429, 500, mutation during pagination), or to
//! hold a page until released (crash tests).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

pub const CLIENT_ID: &str = "fake-client-id";
pub const SECRET: &str = "fake-plaid-secret-0123456789";
pub const KID: &str = "fake-key-1";

/// One change in an item's transaction history, in the order Plaid learned of it.
#[derive(Debug, Clone)]
pub enum Change {
    Added(Value),
    Modified(Value),
    Removed(String),
}

/// A failure to answer instead of the real response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    LoginRequired,
    RateLimited,
    ServerError,
    Mutation,
}

#[derive(Debug, Clone)]
struct Injected {
    path: String,
    /// Successful calls to `path` to let through first.
    skip: usize,
    failure: Failure,
}

#[derive(Debug, Default)]
struct Item {
    item_id: String,
    accounts: Vec<Value>,
    log: Vec<Change>,
    removed: bool,
}

#[derive(Default)]
struct Inner {
    /// By access token.
    items: HashMap<String, Item>,
    /// Public token -> access token, consumed on exchange.
    public_tokens: HashMap<String, String>,
    injected: Vec<Injected>,
    /// Every request: path and body with `secret` blanked.
    requests: Vec<(String, Value)>,
    /// Sync pages answered so far; the page with this index is held until released.
    pages_served: usize,
    hold_page: Option<usize>,
    /// Added to the log when a `Mutation` failure is answered (what changed mid-pagination).
    mutation: Vec<Change>,
    /// Most changes per sync page, whatever `count` the client asks for.
    max_page: Option<usize>,
    /// History pushed for items not linked yet, by item id.
    preloaded: HashMap<String, Vec<Change>>,
}

pub struct FakePlaid {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
    key: SigningKey,
    held: Arc<Notify>,
    release: Arc<Notify>,
    _server: tokio::task::JoinHandle<()>,
}

#[derive(Clone)]
struct Shared {
    inner: Arc<Mutex<Inner>>,
    key: SigningKey,
    held: Arc<Notify>,
    release: Arc<Notify>,
}

impl FakePlaid {
    pub async fn start() -> Self {
        let key = SigningKey::from_slice(&rand::random::<[u8; 32]>()).unwrap();
        let shared = Shared {
            inner: Arc::new(Mutex::new(Inner::default())),
            key: key.clone(),
            held: Arc::new(Notify::new()),
            release: Arc::new(Notify::new()),
        };
        let router = axum::Router::new()
            .route("/{*path}", axum::routing::post(handle))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        FakePlaid {
            url,
            inner: shared.inner,
            key,
            held: shared.held,
            release: shared.release,
            _server: server,
        }
    }

    /// Configuration pointing AuditPulse at this fake.
    pub fn config(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AUDITPULSE_PLAID_CLIENT_ID", CLIENT_ID.to_owned()),
            ("AUDITPULSE_PLAID_SECRET", SECRET.to_owned()),
            ("AUDITPULSE_PLAID_BASE_URL", self.url.clone()),
            ("AUDITPULSE_ALLOW_PRIVATE_OUTBOUND", "true".to_owned()),
        ]
    }

    /// A bank connection Link would create: returns the public token the browser would get.
    pub fn add_item(&self, item_id: &str, accounts: Vec<Value>) -> String {
        let mut guard = self.inner.lock().unwrap();
        let inner = &mut *guard;
        let access = format!("access-sandbox-{item_id}-{}", rand::random::<u32>());
        let public = format!("public-sandbox-{item_id}-{}", rand::random::<u32>());
        inner.items.insert(
            access.clone(),
            Item {
                item_id: item_id.to_owned(),
                accounts,
                log: inner.preloaded.remove(item_id).unwrap_or_default(),
                ..Item::default()
            },
        );
        inner.public_tokens.insert(public.clone(), access);
        public
    }

    /// Appends changes to the item's history (what the next sync reports); for an item not
    /// linked yet, its history from the start.
    pub fn push(&self, item_id: &str, changes: Vec<Change>) {
        let mut inner = self.inner.lock().unwrap();
        match inner.items.values_mut().find(|i| i.item_id == item_id) {
            Some(item) => item.log.extend(changes),
            None => inner
                .preloaded
                .entry(item_id.to_owned())
                .or_default()
                .extend(changes),
        }
    }

    /// Pages `/transactions/sync` by at most `changes` per page.
    pub fn paginate(&self, changes: usize) {
        self.inner.lock().unwrap().max_page = Some(changes);
    }

    /// Fails the call to `path` after `skip` successful ones, once.
    pub fn fail(&self, path: &str, skip: usize, failure: Failure) {
        self.inner.lock().unwrap().injected.push(Injected {
            path: path.to_owned(),
            skip,
            failure,
        });
    }

    /// On the next `Mutation` failure, these changes land in the history too.
    pub fn mutate_with(&self, changes: Vec<Change>) {
        self.inner.lock().unwrap().mutation = changes;
    }

    /// Holds the sync page with index `page` (0 = the next one served) until [`Self::release`].
    pub fn hold_page(&self, page: usize) {
        let mut inner = self.inner.lock().unwrap();
        inner.hold_page = Some(inner.pages_served + page);
    }

    /// Resolves once a held page is being held.
    pub async fn wait_held(&self) {
        self.held.notified().await;
    }

    pub fn release(&self) {
        self.inner.lock().unwrap().hold_page = None;
        self.release.notify_waiters();
    }

    /// Bodies of the requests made to `path`, `secret` blanked.
    pub fn requests(&self, path: &str) -> Vec<Value> {
        let inner = self.inner.lock().unwrap();
        inner
            .requests
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, b)| b.clone())
            .collect()
    }

    pub fn item_removed(&self, item_id: &str) -> bool {
        let inner = self.inner.lock().unwrap();
        inner
            .items
            .values()
            .any(|i| i.item_id == item_id && i.removed)
    }

    /// A `Plaid-Verification` value for `body`, issued at `iat`, signed with this fake's key.
    pub fn sign(&self, body: &[u8], iat: i64) -> String {
        sign_with(
            &self.key,
            &json!({"alg": "ES256", "kid": KID, "typ": "JWT"}),
            body,
            iat,
        )
    }

    /// Like [`Self::sign`] with another header (wrong alg, unknown kid) or another key.
    pub fn sign_custom(&self, header: &Value, body: &[u8], iat: i64, foreign_key: bool) -> String {
        let key = if foreign_key {
            SigningKey::from_slice(&rand::random::<[u8; 32]>()).unwrap()
        } else {
            self.key.clone()
        };
        sign_with(&key, header, body, iat)
    }

    /// POSTs a signed webhook for `item_id` the way Plaid does.
    pub async fn send_webhook(&self, to: &str, code: &str, item_id: &str) -> reqwest::Response {
        let body = json!({
            "webhook_type": "TRANSACTIONS", "webhook_code": code, "item_id": item_id,
            "initial_update_complete": true, "historical_update_complete": true,
            "environment": "sandbox",
        })
        .to_string();
        let header = self.sign(body.as_bytes(), chrono::Utc::now().timestamp());
        post_webhook(to, body, &header).await
    }
}

pub async fn post_webhook(to: &str, body: String, verification: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(to)
        .header("content-type", "application/json")
        .header("plaid-verification", verification)
        .body(body)
        .send()
        .await
        .unwrap()
}

fn sign_with(key: &SigningKey, header: &Value, body: &[u8], iat: i64) -> String {
    let claims = json!({"iat": iat, "request_body_sha256": hex::encode(Sha256::digest(body))});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature: Signature = key.sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

/// A Plaid transaction as `/transactions/sync` sends it. `amount` is the JSON number's text.
pub fn txn(id: &str, account: &str, amount: &str, date: &str, name: &str) -> Value {
    let mut t = json!({
        "transaction_id": id, "account_id": account, "iso_currency_code": "USD",
        "unofficial_currency_code": null, "date": date, "authorized_date": date,
        "datetime": null, "name": name, "merchant_name": name, "pending": false,
        "pending_transaction_id": null,
        "personal_finance_category": {"primary": "GENERAL_MERCHANDISE", "detailed": "GENERAL_MERCHANDISE_OTHER"},
        "payment_channel": "online", "category": null,
    });
    t["amount"] = serde_json::from_str(amount).unwrap();
    t
}

/// An account as `/accounts/get` sends it.
pub fn account(id: &str, name: &str, mask: &str) -> Value {
    json!({
        "account_id": id, "name": name, "official_name": format!("{name} Account"), "mask": mask,
        "type": "depository", "subtype": "checking",
        "balances": {"available": 100.5, "current": 110.0, "iso_currency_code": "USD",
                     "unofficial_currency_code": null, "limit": null},
    })
}

fn error(status: StatusCode, error_type: &str, code: &str, message: &str) -> Response {
    let body = json!({
        "error_type": error_type, "error_code": code, "error_message": message,
        "display_message": null, "request_id": format!("req-{}", rand::random::<u32>()),
        "causes": [], "status": status.as_u16(), "documentation_url": "", "suggested_action": null,
    });
    (status, Json(body)).into_response()
}

fn failure_response(failure: Failure) -> Response {
    match failure {
        Failure::LoginRequired => error(
            StatusCode::BAD_REQUEST,
            "ITEM_ERROR",
            "ITEM_LOGIN_REQUIRED",
            "the login details of this item have changed",
        ),
        Failure::RateLimited => error(
            StatusCode::TOO_MANY_REQUESTS,
            "RATE_LIMIT_EXCEEDED",
            "TRANSACTIONS_SYNC_LIMIT",
            "rate limit exceeded",
        ),
        Failure::ServerError => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "API_ERROR",
            "INTERNAL_SERVER_ERROR",
            "an unexpected error occurred",
        ),
        Failure::Mutation => error(
            StatusCode::BAD_REQUEST,
            "TRANSACTIONS_ERROR",
            "TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION",
            "underlying transaction data changed since the last page was fetched",
        ),
    }
}

async fn handle(
    State(shared): State<Shared>,
    Path(path): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let path = format!("/{path}");
    let mut recorded = body.clone();
    if recorded.get("secret").is_some() {
        recorded["secret"] = json!("<blank>");
    }
    let hold = {
        let mut inner = shared.inner.lock().unwrap();
        inner.requests.push((path.clone(), recorded));
        if headers.get("plaid-version").and_then(|v| v.to_str().ok()) != Some("2020-09-14") {
            return error(
                StatusCode::BAD_REQUEST,
                "INVALID_REQUEST",
                "INVALID_HEADERS",
                "Plaid-Version",
            );
        }
        if body["client_id"] != CLIENT_ID || body["secret"] != SECRET {
            return error(
                StatusCode::BAD_REQUEST,
                "INVALID_REQUEST",
                "INVALID_API_KEYS",
                "invalid client_id or secret",
            );
        }
        if let Some(at) = inner.injected.iter().position(|i| i.path == path) {
            if inner.injected[at].skip == 0 {
                let injected = inner.injected.remove(at);
                if injected.failure == Failure::Mutation {
                    let changes = std::mem::take(&mut inner.mutation);
                    if let Some(item) = inner
                        .items
                        .get_mut(body["access_token"].as_str().unwrap_or(""))
                    {
                        item.log.extend(changes);
                    }
                }
                return failure_response(injected.failure);
            }
            inner.injected[at].skip -= 1;
        }
        if path == "/transactions/sync" {
            let page = inner.pages_served;
            inner.pages_served += 1;
            inner.hold_page == Some(page)
        } else {
            false
        }
    };
    if hold {
        let released = shared.release.notified();
        shared.held.notify_one();
        released.await;
    }
    let mut inner = shared.inner.lock().unwrap();
    let max_page = inner.max_page;
    answer(&mut inner, &shared.key, &path, &body, max_page)
}

fn answer(
    inner: &mut Inner,
    key: &SigningKey,
    path: &str,
    body: &Value,
    max_page: Option<usize>,
) -> Response {
    let token = body["access_token"].as_str().unwrap_or("");
    match path {
        "/link/token/create" => Json(json!({
            "link_token": format!("link-sandbox-{}", rand::random::<u32>()),
            "expiration": "2030-01-01T00:00:00Z", "request_id": "req-link",
        }))
        .into_response(),
        "/item/public_token/exchange" => {
            let public = body["public_token"].as_str().unwrap_or("");
            match inner.public_tokens.remove(public) {
                Some(access) => {
                    let item_id = inner.items[&access].item_id.clone();
                    Json(json!({"access_token": access, "item_id": item_id, "request_id": "req-x"}))
                        .into_response()
                }
                None => error(
                    StatusCode::BAD_REQUEST,
                    "INVALID_INPUT",
                    "INVALID_PUBLIC_TOKEN",
                    "provided public token is in an invalid format",
                ),
            }
        }
        "/webhook_verification_key/get" => {
            if body["key_id"] != KID {
                return error(
                    StatusCode::BAD_REQUEST,
                    "INVALID_INPUT",
                    "INVALID_WEBHOOK_VERIFICATION_KEY_ID",
                    "invalid key_id provided",
                );
            }
            let point = key.verifying_key().to_encoded_point(false);
            Json(json!({"key": {
                "alg": "ES256", "crv": "P-256", "kid": KID, "kty": "EC", "use": "sig",
                "x": URL_SAFE_NO_PAD.encode(point.x().unwrap()),
                "y": URL_SAFE_NO_PAD.encode(point.y().unwrap()),
                "created_at": 1_700_000_000, "expired_at": null,
            }, "request_id": "req-key"}))
            .into_response()
        }
        _ => match inner.items.get_mut(token).filter(|i| !i.removed) {
            None => error(
                StatusCode::BAD_REQUEST,
                "INVALID_INPUT",
                "INVALID_ACCESS_TOKEN",
                "provided access token is in an invalid format",
            ),
            Some(item) => item_call(item, path, body, max_page),
        },
    }
}

fn item_call(item: &mut Item, path: &str, body: &Value, max_page: Option<usize>) -> Response {
    match path {
        "/accounts/get" => Json(json!({
            "accounts": item.accounts,
            "item": {"item_id": item.item_id, "institution_id": "ins_109508",
                     "institution_name": "First Platypus Bank", "webhook": null},
            "request_id": "req-acc",
        }))
        .into_response(),
        "/item/remove" => {
            item.removed = true;
            Json(json!({"request_id": "req-rm"})).into_response()
        }
        "/transactions/sync" => {
            let start: usize = match body["cursor"].as_str() {
                None | Some("") => 0,
                Some(c) => match c.strip_prefix("cur-").and_then(|n| n.parse().ok()) {
                    Some(n) if n <= item.log.len() => n,
                    _ => {
                        return error(
                            StatusCode::BAD_REQUEST,
                            "INVALID_INPUT",
                            "INVALID_CURSOR",
                            "cursor is not valid",
                        )
                    }
                },
            };
            let count = body["count"].as_u64().unwrap_or(100) as usize;
            let count = max_page.map_or(count, |m| count.min(m));
            let end = (start + count).min(item.log.len());
            let (mut added, mut modified, mut removed) = (vec![], vec![], vec![]);
            for change in &item.log[start..end] {
                match change {
                    Change::Added(t) => added.push(t.clone()),
                    Change::Modified(t) => modified.push(t.clone()),
                    Change::Removed(id) => {
                        removed.push(json!({"transaction_id": id, "account_id": null}))
                    }
                }
            }
            Json(json!({
                "added": added, "modified": modified, "removed": removed,
                "next_cursor": format!("cur-{end}"), "has_more": end < item.log.len(),
                "transactions_update_status": "HISTORICAL_UPDATE_COMPLETE",
                "accounts": [], "request_id": "req-sync",
            }))
            .into_response()
        }
        _ => error(
            StatusCode::NOT_FOUND,
            "INVALID_REQUEST",
            "NOT_FOUND",
            "unknown endpoint",
        ),
    }
}
