//! The active expire cycle: reclaims keys whose TTL passed even when nobody reads them, sampling
//! the volatile keys the way Redis's `activeExpireCycle` does.

use super::Keyspace;
use std::time::{Duration, Instant};

/// Keys sampled per database per round (ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP).
const KEYS_PER_LOOP: usize = 20;
/// Keep sampling a database while more than this percentage of the sample was expired.
const ACCEPTABLE_STALE_PERCENT: usize = 10;

impl Keyspace {
    /// Runs one cycle within `budget`; the keys it deletes go to `expired_log` like lazily
    /// expired ones. Returns how many it deleted.
    pub fn active_expire_cycle(&mut self, budget: Duration) -> usize {
        let mut deleted = 0;
        if self.is_replica || !self.active_expire {
            return deleted;
        }
        let start = Instant::now();
        self.tick();
        let now = self.now;
        let (mut total_sampled, mut total_expired) = (0usize, 0usize);
        for db in 0..self.db_count() {
            loop {
                let d = &mut self.dbs[db];
                if d.expires.is_empty() {
                    break;
                }
                let mut expired_keys = Vec::new();
                let mut sampled = 0;
                let mut buckets = 0;
                let mut cursor = d.expire_cursor;
                while sampled < KEYS_PER_LOOP && buckets < KEYS_PER_LOOP * 20 {
                    cursor = d.expires.scan(cursor, |k, &at| {
                        sampled += 1;
                        if at <= now {
                            expired_keys.push(k.to_vec());
                        }
                    });
                    buckets += 1;
                    if cursor == 0 {
                        break;
                    }
                }
                d.expire_cursor = cursor;
                let n_expired = expired_keys.len();
                for key in expired_keys {
                    self.expire_entry(db, &key);
                    deleted += 1;
                }
                total_sampled += sampled;
                total_expired += n_expired;
                let stale_enough =
                    sampled > 0 && n_expired * 100 / sampled > ACCEPTABLE_STALE_PERCENT;
                if !stale_enough || cursor == 0 || start.elapsed() > budget {
                    break;
                }
            }
            if start.elapsed() > budget {
                break;
            }
        }
        if total_sampled > 0 {
            let current = total_expired as f64 / total_sampled as f64;
            self.stats.expired_stale_perc = current * 0.05 + self.stats.expired_stale_perc * 0.95;
        }
        deleted
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Keyspace, Value};
    use std::time::Duration;

    #[test]
    fn reclaims_unread_expired_keys() {
        let mut ks = Keyspace::new(2);
        for i in 0..5000 {
            let key = format!("k{i}");
            ks.set(1, key.as_bytes(), Value::Int(i), false);
            let at = if i % 2 == 0 {
                ks.now - 1
            } else {
                ks.now + 100_000
            };
            ks.set_expire(1, key.as_bytes(), at);
        }
        assert_eq!(ks.dbsize(1), 5000);
        let mut rounds = 0;
        while ks.dbsize(1) > 2500 && rounds < 1000 {
            ks.active_expire_cycle(Duration::from_millis(25));
            rounds += 1;
        }
        assert_eq!(ks.dbsize(1), 2500, "expired keys were not reclaimed");
        assert_eq!(ks.stats.expired, 2500);
        assert_eq!(ks.db(1).volatile_count(), 2500);
    }
}
