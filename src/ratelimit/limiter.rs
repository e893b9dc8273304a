//! A keyed set of buckets with bounded memory: a fixed number of shards, each an LRU map with a
//! fixed capacity. Under a flood of distinct keys the least recently seen clients are forgotten,
//! so memory stays bounded whatever the attacker sends.

use std::hash::{BuildHasher, Hash};
use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::Instant;

use lru::LruCache;

use super::bucket::{Bucket, Decision};
use super::policy::{BlockPolicy, Rate};

const SHARDS: usize = 16;

pub struct Limiter<K: Hash + Eq> {
    rate: Rate,
    block: BlockPolicy,
    hasher: std::collections::hash_map::RandomState,
    shards: Vec<Mutex<LruCache<K, Bucket>>>,
}

impl<K: Hash + Eq> Limiter<K> {
    /// A limiter remembering at most about `max_clients` keys.
    pub fn new(rate: Rate, block: BlockPolicy, max_clients: usize) -> Self {
        let per_shard =
            NonZeroUsize::new(max_clients.div_ceil(SHARDS).max(1)).unwrap_or(NonZeroUsize::MIN);
        let shards = (0..SHARDS)
            .map(|_| Mutex::new(LruCache::new(per_shard)))
            .collect();
        Self {
            rate,
            block,
            hasher: Default::default(),
            shards,
        }
    }

    pub fn check(&self, key: K, now: Instant) -> Decision {
        let shard = &self.shards[(self.hasher.hash_one(&key) as usize) % SHARDS];
        // A poisoned shard only means another request panicked mid-update; its state is still a
        // valid bucket map, so keep limiting rather than failing open or crashing.
        let mut map = shard
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let bucket = map.get_or_insert_mut(key, || Bucket::new(&self.rate, now));
        bucket.check(&self.rate, &self.block, now)
    }

    /// Keys currently remembered.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().map(|m| m.len()).unwrap_or(0))
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn capacity(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().map(|m| m.cap().get()).unwrap_or(0))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn limiter(max: usize) -> Limiter<u32> {
        let rate = Rate {
            count: 1,
            period: Duration::from_secs(60),
            burst: 1,
        };
        let block = BlockPolicy {
            after: 100,
            base: Duration::from_secs(60),
            max: Duration::from_secs(900),
        };
        Limiter::new(rate, block, max)
    }

    #[test]
    fn a_million_distinct_clients_do_not_grow_memory_past_the_cap() {
        let l = limiter(10_000);
        let now = Instant::now();
        for key in 0..1_000_000u32 {
            l.check(key, now);
        }
        assert!(l.len() <= l.capacity(), "{} > {}", l.len(), l.capacity());
        assert!(l.capacity() <= 10_000 + SHARDS);
    }

    #[test]
    fn keys_are_limited_independently() {
        let l = limiter(100);
        let now = Instant::now();
        assert_eq!(l.check(1, now), Decision::Allow);
        assert!(matches!(l.check(1, now), Decision::Refuse { .. }));
        assert_eq!(l.check(2, now), Decision::Allow);
    }
}
