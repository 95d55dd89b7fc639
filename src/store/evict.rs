//! `maxmemory` eviction, as Redis 7.0 approximates it: each round samples `maxmemory-samples`
//! keys per database into a pool of the 16 best candidates kept between rounds (longest idle
//! for LRU, least frequent for LFU, nearest expiry for volatile-ttl), then evicts the best one
//! still present. The random policies pick a random key, one database after another.

use super::access::AccessPolicy;
use super::{Entry, Keyspace};

/// `maxmemory-policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(u8)]
pub enum EvictionPolicy {
    #[default]
    NoEviction,
    AllKeysLru,
    VolatileLru,
    AllKeysLfu,
    VolatileLfu,
    AllKeysRandom,
    VolatileRandom,
    VolatileTtl,
}

impl EvictionPolicy {
    /// Every policy, indexed by its `u8` value: the policy is kept in an atomic byte, read by
    /// every command while `maxmemory` is set.
    const ALL: [Self; 8] = [
        Self::NoEviction,
        Self::AllKeysLru,
        Self::VolatileLru,
        Self::AllKeysLfu,
        Self::VolatileLfu,
        Self::AllKeysRandom,
        Self::VolatileRandom,
        Self::VolatileTtl,
    ];

    /// The policy stored as `self as u8` ([`EvictionPolicy::NoEviction`] for any other byte).
    pub fn from_u8(v: u8) -> Self {
        Self::ALL.get(v as usize).copied().unwrap_or_default()
    }

    /// The policy a `maxmemory-policy` value names (the config table accepts only valid names).
    pub fn parse(name: &str) -> Self {
        match name {
            "allkeys-lru" => Self::AllKeysLru,
            "volatile-lru" => Self::VolatileLru,
            "allkeys-lfu" => Self::AllKeysLfu,
            "volatile-lfu" => Self::VolatileLfu,
            "allkeys-random" => Self::AllKeysRandom,
            "volatile-random" => Self::VolatileRandom,
            "volatile-ttl" => Self::VolatileTtl,
            _ => Self::NoEviction,
        }
    }

    /// The LFU policies: keys' access fields then hold a frequency counter, not a clock.
    pub fn is_lfu(self) -> bool {
        matches!(self, Self::AllKeysLfu | Self::VolatileLfu)
    }

    /// Only keys with a time to live are candidates.
    fn volatile(self) -> bool {
        matches!(
            self,
            Self::VolatileLru | Self::VolatileLfu | Self::VolatileRandom | Self::VolatileTtl
        )
    }
}

/// Redis's `EVPOOL_SIZE`.
const POOL_SIZE: usize = 16;

/// Candidates kept between evictions, in increasing order of how evictable they are.
#[derive(Default)]
pub struct EvictionPool {
    candidates: Vec<(u64, usize, Vec<u8>)>,
    /// Next database the random policies pick from.
    next_db: usize,
}

impl EvictionPool {
    fn offer(&mut self, score: u64, db: usize, key: &[u8]) {
        let c = &mut self.candidates;
        if c.len() == POOL_SIZE && score <= c[0].0 {
            return;
        }
        // A key sampled again: compare lengths and last bytes before whole keys (keys of one
        // shape, `user:000123`, share their length and prefix).
        let same = |k: &[u8]| k.len() == key.len() && k.last() == key.last() && k == key;
        if c.iter().any(|(_, d, k)| *d == db && same(k)) {
            return;
        }
        let at = c.partition_point(|(s, _, _)| *s < score);
        c.insert(at, (score, db, key.to_vec()));
        if c.len() > POOL_SIZE {
            c.remove(0);
        }
    }
}

impl Keyspace {
    /// Evicts one key chosen by `policy`, sampling `samples` keys per database; returns it as
    /// (database, key) for the caller to announce (the `evicted` event, a DEL to replicas), or
    /// `None` when there is no candidate (an empty dataset, or no volatile key for a volatile
    /// policy).
    pub fn evict_one(
        &mut self,
        policy: EvictionPolicy,
        samples: usize,
    ) -> Option<(usize, Vec<u8>)> {
        let victim = match policy {
            EvictionPolicy::NoEviction => None,
            EvictionPolicy::AllKeysRandom | EvictionPolicy::VolatileRandom => {
                self.random_victim(policy.volatile())
            }
            _ => self.pooled_victim(policy, samples),
        }?;
        let (db, key) = victim;
        self.remove_entry(db, &key);
        self.signal_modified(db, &key);
        self.stats.evicted += 1;
        Some((db, key))
    }

    fn random_victim(&mut self, volatile: bool) -> Option<(usize, Vec<u8>)> {
        for _ in 0..self.dbs.len() {
            let db = self.eviction.next_db % self.dbs.len();
            self.eviction.next_db = db + 1;
            let d = &self.dbs[db];
            let key = if volatile {
                d.expires
                    .random_entry(&mut self.rng)
                    .map(|(k, _)| k.to_vec())
            } else {
                d.keys.random_entry(&mut self.rng).map(|(k, _)| k.to_vec())
            };
            if key.is_some() {
                return key.map(|k| (db, k));
            }
        }
        None
    }

    fn pooled_victim(
        &mut self,
        policy: EvictionPolicy,
        samples: usize,
    ) -> Option<(usize, Vec<u8>)> {
        let (now, access) = (self.now, self.access_policy);
        let pool = &mut self.eviction;
        let rng = &mut self.rng;
        for (db, d) in self.dbs.iter().enumerate() {
            let score_of = |key: &[u8], e: &Entry| match policy {
                EvictionPolicy::VolatileTtl => {
                    let at = d.expires.get(key).copied().unwrap_or(i64::MAX);
                    u64::MAX - at.max(0) as u64
                }
                p if p.is_lfu() => 255 - u64::from(access.frequency(e.access, now)),
                _ => u64::from(AccessPolicy::idle_seconds(e.access, now)),
            };
            if policy.volatile() {
                d.expires.sample_some(samples, rng, |key, _| {
                    if let Some(e) = d.keys.get(key) {
                        pool.offer(score_of(key, e), db, key);
                    }
                });
            } else {
                d.keys
                    .sample_some(samples, rng, |key, e| pool.offer(score_of(key, e), db, key));
            }
        }
        // The best candidate that still exists (and still has a TTL for volatile policies).
        while let Some((_, db, key)) = self.eviction.candidates.pop() {
            let d = &self.dbs[db];
            let present = if policy.volatile() {
                d.expires.get(&key).is_some()
            } else {
                d.keys.get(&key).is_some()
            };
            if present {
                return Some((db, key));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Keyspace, Value};
    use super::EvictionPolicy;

    fn ks_with(n: i64) -> Keyspace {
        let mut ks = Keyspace::new(2);
        for i in 0..n {
            ks.set(
                (i % 2) as usize,
                format!("k{i}").as_bytes(),
                Value::Int(i),
                false,
            );
        }
        ks
    }

    #[test]
    fn policy_round_trips_through_its_byte() {
        for p in EvictionPolicy::ALL {
            assert_eq!(EvictionPolicy::from_u8(p as u8), p);
        }
        assert_eq!(EvictionPolicy::from_u8(200), EvictionPolicy::NoEviction);
    }

    #[test]
    fn lru_evicts_the_idle_keys_first() {
        let mut ks = ks_with(200);
        // Everything was last touched an hour ago except k0..k19, touched now.
        for db in 0..2 {
            let keys: Vec<Vec<u8>> = ks.db(db).keys.iter().map(|(k, _)| k.to_vec()).collect();
            for k in keys {
                let recent = std::str::from_utf8(&k[1..])
                    .unwrap()
                    .parse::<i64>()
                    .unwrap()
                    < 20;
                let at = if recent { ks.now } else { ks.now - 3_600_000 };
                let access = ks.access_policy.fresh(at);
                ks.dbs[db].keys.get_mut(&k).unwrap().access = access;
            }
        }
        for _ in 0..150 {
            ks.evict_one(EvictionPolicy::AllKeysLru, 5).unwrap();
        }
        let survivors = (0..20).filter(|i| ks.exists((i % 2) as usize, format!("k{i}").as_bytes()));
        assert!(survivors.count() >= 18, "recently used keys were evicted");
        assert_eq!(ks.stats.evicted, 150);
    }

    #[test]
    fn volatile_policies_only_take_keys_with_a_ttl() {
        for policy in [
            EvictionPolicy::VolatileTtl,
            EvictionPolicy::VolatileRandom,
            EvictionPolicy::VolatileLru,
            EvictionPolicy::VolatileLfu,
        ] {
            let mut ks = ks_with(100);
            let at = ks.now + 60_000;
            for i in 0..10i64 {
                ks.set_expire((i % 2) as usize, format!("k{i}").as_bytes(), at + i);
            }
            let mut evicted = Vec::new();
            while let Some((_, k)) = ks.evict_one(policy, 5) {
                evicted.push(String::from_utf8(k).unwrap());
            }
            evicted.sort();
            let mut expected: Vec<String> = (0..10).map(|i| format!("k{i}")).collect();
            expected.sort();
            assert_eq!(evicted, expected, "{policy:?}");
            assert!(ks.evict_one(EvictionPolicy::NoEviction, 5).is_none());
        }
    }

    #[test]
    fn volatile_ttl_takes_the_nearest_expiry_first() {
        let mut ks = ks_with(40);
        let base = ks.now + 100_000;
        for i in 0..40i64 {
            ks.set_expire(
                (i % 2) as usize,
                format!("k{i}").as_bytes(),
                base + i * 1000,
            );
        }
        let mut first = Vec::new();
        for _ in 0..5 {
            first.push(ks.evict_one(EvictionPolicy::VolatileTtl, 10).unwrap().1);
        }
        // With 10 samples per database out of 20 the pick is approximate, as in Redis: the
        // victims come from the earlier half.
        for k in first {
            let i: i64 = std::str::from_utf8(&k[1..]).unwrap().parse().unwrap();
            assert!(i < 30, "evicted k{i}, far from the nearest expiry");
        }
    }
}
