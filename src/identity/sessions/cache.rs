//! The in-process cache of session states that the authenticator reads on every request.
//!
//! Invariant: an entry is trusted for at most [`TTL`] (one second) after it was read from the
//! store, so a session ended or a user deactivated by another instance is refused within a second;
//! sessions ended in this process are evicted at once (and a read that raced with the eviction is
//! not cached). The cache holds ids and states, never a credential.

use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use lru::LruCache;

use crate::domain::{SessionId, TenantId, UserId};
use crate::error::Result;
use crate::identity::store::IdentityStore;
use crate::identity::SessionState;

/// How long a state read from the store is trusted.
pub const TTL: Duration = Duration::from_secs(1);
const CAPACITY: usize = 50_000;

struct Entry {
    state: Option<SessionState>,
    fetched: Instant,
    /// When this process last wrote the session's `last_seen_at`.
    touched: Option<Instant>,
}

struct Inner {
    entries: LruCache<SessionId, Entry>,
    /// Bumped by every eviction: a read that started before one is not cached.
    epoch: u64,
}

pub struct SessionCache {
    inner: Mutex<Inner>,
}

impl Default for SessionCache {
    fn default() -> Self {
        Self::new()
    }
}

impl SessionCache {
    pub fn new() -> Self {
        let capacity = NonZeroUsize::new(CAPACITY).unwrap_or(NonZeroUsize::MIN);
        Self {
            inner: Mutex::new(Inner {
                entries: LruCache::new(capacity),
                epoch: 0,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data behind; keep serving.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The session's state, from the cache when read less than [`TTL`] ago, else from the store.
    pub async fn state(
        &self,
        store: &dyn IdentityStore,
        id: SessionId,
    ) -> Result<Option<SessionState>> {
        let epoch = {
            let mut inner = self.lock();
            if let Some(entry) = inner.entries.get(&id) {
                if entry.fetched.elapsed() < TTL {
                    return Ok(entry.state.clone());
                }
            }
            inner.epoch
        };
        let fetched = Instant::now();
        let state = store.session_state(id).await?;
        let mut inner = self.lock();
        if inner.epoch == epoch {
            let touched = inner.entries.peek(&id).and_then(|e| e.touched);
            inner.entries.put(
                id,
                Entry {
                    state: state.clone(),
                    fetched,
                    touched,
                },
            );
        }
        Ok(state)
    }

    /// Whether this request should write `last_seen_at` (at most once per `interval` per session
    /// from this process); when it answers `true` it records the touch.
    pub fn claim_touch(&self, id: SessionId, interval: Duration) -> bool {
        let mut inner = self.lock();
        let Some(entry) = inner.entries.get_mut(&id) else {
            return true;
        };
        if entry.touched.is_some_and(|t| t.elapsed() < interval) {
            return false;
        }
        entry.touched = Some(Instant::now());
        true
    }

    /// Forgets these sessions at once: the next request on them reads the store.
    pub fn evict(&self, ids: &[SessionId]) {
        let mut inner = self.lock();
        inner.epoch += 1;
        for id in ids {
            inner.entries.pop(id);
        }
    }

    /// Forgets every cached session of `user` (deactivated, deleted, role or 2FA changed).
    pub fn evict_user(&self, user: UserId) {
        self.evict_where(|s| s.user.id == user);
    }

    /// Forgets every cached session of the users of `tenant` (the tenant was deleted).
    pub fn evict_tenant(&self, tenant: TenantId) {
        self.evict_where(|s| s.user.tenant_id == Some(tenant));
    }

    fn evict_where(&self, matches: impl Fn(&SessionState) -> bool) {
        let mut inner = self.lock();
        inner.epoch += 1;
        let ids: Vec<SessionId> = inner
            .entries
            .iter()
            .filter(|(_, e)| e.state.as_ref().is_some_and(&matches))
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            inner.entries.pop(&id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn touches_are_claimed_once_per_interval() {
        let cache = SessionCache::new();
        let id = SessionId::new();
        // Not cached yet: the caller touches (and the state read right after caches it).
        assert!(cache.claim_touch(id, Duration::from_secs(30)));
        cache.lock().entries.put(
            id,
            Entry {
                state: None,
                fetched: Instant::now(),
                touched: None,
            },
        );
        assert!(cache.claim_touch(id, Duration::from_secs(30)));
        assert!(!cache.claim_touch(id, Duration::from_secs(30)));
        assert!(cache.claim_touch(id, Duration::ZERO));
        cache.evict(&[id]);
        assert!(cache.lock().entries.peek(&id).is_none());
    }
}
