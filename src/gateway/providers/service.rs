//! [`Providers`]: setting, listing and deleting a tenant's provider keys, and [`Providers::resolve`],
//! the look-up the proxy makes on every call.
//!
//! Invariant: a key is sealed with the tenant's data key before it reaches the store and opened
//! only in `resolve`, into a [`SecretString`]; every base URL passes the outbound policy when it
//! is set and again when it is resolved.

use std::sync::Arc;
use std::time::Duration;

use url::Url;

use super::model::{
    default_base_url, key_hint, parse_base_url, NewProviderKey, ProviderKey, Upstream,
};
use super::store::{ProviderRow, ProviderStore, Put};
use crate::crypto::{Keyring, LLM_PROVIDER_KEY};
use crate::domain::{time, ProviderKeyId, TenantId};
use crate::error::{Error, FieldError, Result};
use crate::gateway::ttl::TtlCache;
use crate::gateway::Provider;
use crate::outbound::OutboundPolicy;
use crate::secret::SecretString;
use crate::store::Time;

/// Attempts to seal and write a key while rotations keep replacing the tenant's data key.
const WRITE_ATTEMPTS: u32 = 3;

/// A tenant's provider keys: what the routes and the proxy use.
pub struct Providers {
    store: Arc<dyn ProviderStore>,
    keyring: Arc<Keyring>,
    policy: OutboundPolicy,
    /// What `resolve` found, for [`RESOLVE_TTL`]: set and delete forget their tenant's entry.
    cache: TtlCache<(TenantId, Provider), Option<Upstream>>,
}

/// How long a resolved provider key is reused. A change made through this process applies at
/// once; one made through another instance sharing the database, within this time.
pub const RESOLVE_TTL: Duration = Duration::from_secs(5);

/// A key that was set, and the one it replaced.
#[derive(Debug)]
pub struct SetKey {
    pub key: ProviderKey,
    pub replaced: Option<ProviderKeyId>,
}

impl Providers {
    pub fn new(
        store: Arc<dyn ProviderStore>,
        keyring: Arc<Keyring>,
        policy: OutboundPolicy,
    ) -> Self {
        Self {
            store,
            keyring,
            policy,
            cache: TtlCache::new(RESOLVE_TTL, 10_000),
        }
    }

    /// A base URL an administrator gave: its shape, then the outbound policy (https in
    /// production; private and loopback addresses only with the allow-private flag). A refusal
    /// is a 422 naming `base_url` and saying what to change.
    pub fn check_base_url(&self, text: &str) -> Result<Url> {
        let refused = |why: String| Error::Validation(vec![FieldError::new("base_url", why)]);
        let url = parse_base_url(text).map_err(refused)?;
        self.policy
            .check(&url)
            .map_err(|why| refused(format!("base_url is refused: {why}")))?;
        Ok(url)
    }

    /// The tenant's keys, by provider; never a key, only its hint.
    pub async fn list(&self, tenant: TenantId) -> Result<Vec<ProviderKey>> {
        let rows = self.store.provider_keys(tenant).await?;
        rows.into_iter().map(listed).collect()
    }

    /// Seals and stores `new` as the tenant's key for its provider, replacing the previous one.
    pub async fn set(
        &self,
        tenant: TenantId,
        new: NewProviderKey,
        created_by: &str,
    ) -> Result<SetKey> {
        if let Some(url) = &new.base_url {
            // The route checked it already; a caller that did not still cannot store a URL the
            // policy refuses.
            self.policy
                .check(url)
                .map_err(|why| Error::BadRequest(format!("base_url is refused: {why}")))?;
        }
        let allowed_models = match &new.allowed_models {
            Some(models) => Some(serde_json::to_string(models).map_err(anyhow::Error::from)?),
            None => None,
        };
        for _ in 0..WRITE_ATTEMPTS {
            let sealer = self.keyring.sealer(tenant).await?;
            let id = ProviderKeyId::new();
            let ciphertext = sealer.seal(
                LLM_PROVIDER_KEY.row(&id.to_string()),
                new.api_key.expose().as_bytes(),
            )?;
            let row = ProviderRow {
                id,
                tenant_id: tenant,
                provider: new.provider.as_str().to_owned(),
                label: new.label.clone(),
                api_key_ciphertext: ciphertext,
                key_hint: key_hint(new.api_key.expose()),
                base_url: new.base_url.as_ref().map(|u| u.as_str().to_owned()),
                allowed_models: allowed_models.clone(),
                created_at: Time(time::now()),
                created_by: created_by.to_owned(),
            };
            // A rotation may have replaced the active data key since it was read: seal again.
            if let Put::Stored { replaced } =
                self.store.put_provider_key(&row, sealer.version()).await?
            {
                self.cache.remove(&(tenant, new.provider));
                return Ok(SetKey {
                    key: listed(row)?,
                    replaced,
                });
            }
        }
        Err(Error::Conflict(
            "the tenant's data key kept changing; retry".to_owned(),
        ))
    }

    /// Deletes one of the tenant's keys; its provider, `None` when the tenant has no such key.
    pub async fn delete(&self, tenant: TenantId, id: ProviderKeyId) -> Result<Option<Provider>> {
        let provider = self.store.delete_provider_key(tenant, id).await?;
        let provider = provider.map(|p| parse_provider(id, &p)).transpose()?;
        if let Some(p) = provider {
            self.cache.remove(&(tenant, p));
        }
        Ok(provider)
    }

    /// Where the proxy sends `tenant`'s call to `provider`, with the key to send; `None` when
    /// the tenant has set no key for it. One statement reads the key and the data keys it needs.
    pub async fn resolve(&self, tenant: TenantId, provider: Provider) -> Result<Option<Upstream>> {
        if let Some(found) = self.cache.get(&(tenant, provider)) {
            return Ok(found);
        }
        let found = self.load(tenant, provider).await?;
        self.cache.put((tenant, provider), found.clone());
        Ok(found)
    }

    async fn load(&self, tenant: TenantId, provider: Provider) -> Result<Option<Upstream>> {
        let Some(row) = self.store.upstream_row(tenant, provider).await? else {
            return Ok(None);
        };
        let opener = self.keyring.opener_from(tenant, &row.keys)?;
        let opened = opener.open(
            LLM_PROVIDER_KEY.row(&row.id.to_string()),
            &row.api_key_ciphertext,
        )?;
        let api_key = String::from_utf8(opened.expose().clone()).map_err(|_| {
            Error::Crypto(format!(
                "{} does not hold UTF-8 text",
                LLM_PROVIDER_KEY.name()
            ))
        })?;
        let text = row
            .base_url
            .as_deref()
            .unwrap_or(default_base_url(provider));
        let base_url = parse_base_url(text)
            .map_err(|why| anyhow::anyhow!("corrupt provider key {}: {why}", row.id))?;
        self.policy.check(&base_url).map_err(|why| {
            Error::Conflict(format!(
                "the {provider} base URL is refused by the outbound policy ({why}); an \
                 administrator must set the {provider} key again"
            ))
        })?;
        Ok(Some(Upstream {
            base_url,
            api_key: SecretString::new(api_key),
            allowed_models: models(row.id, row.allowed_models.as_deref())?,
        }))
    }
}

fn parse_provider(id: ProviderKeyId, text: &str) -> Result<Provider> {
    Provider::parse(text)
        .ok_or_else(|| anyhow::anyhow!("corrupt provider key {id}: provider").into())
}

fn models(id: ProviderKeyId, json: Option<&str>) -> Result<Option<Vec<String>>> {
    json.map(|text| {
        serde_json::from_str(text)
            .map_err(|_| anyhow::anyhow!("corrupt provider key {id}: allowed_models").into())
    })
    .transpose()
}

/// A stored row as a listing shows it.
fn listed(row: ProviderRow) -> Result<ProviderKey> {
    let provider = parse_provider(row.id, &row.provider)?;
    Ok(ProviderKey {
        id: row.id,
        provider,
        label: row.label,
        custom_base_url: row.base_url.is_some(),
        base_url: row
            .base_url
            .unwrap_or_else(|| default_base_url(provider).to_owned()),
        allowed_models: models(row.id, row.allowed_models.as_deref())?,
        key_hint: row.key_hint,
        created_at: row.created_at.0,
        created_by: row.created_by,
    })
}
