//! Per-key access tracking in the 32-bit `Entry::access` field, read by OBJECT IDLETIME /
//! OBJECT FREQ and set by RESTORE IDLETIME / FREQ. Like Redis's 24-bit `lru` field, it holds
//! either a seconds clock (LRU policies and the default) or, under an LFU `maxmemory-policy`,
//! the minute of the last decay (high bits) and a logarithmic access counter (low 8 bits).

use rand::Rng;

/// The counter a new key starts with under LFU, so it is not evicted before it had a chance to
/// be used (Redis's `LFU_INIT_VAL`).
pub const LFU_INIT: u8 = 5;

/// How accesses are recorded, from `maxmemory-policy`, `lfu-log-factor`, `lfu-decay-time`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AccessPolicy {
    /// Last access time in seconds.
    #[default]
    Lru,
    /// Logarithmic access frequency that decays by one per `decay_minutes` minutes idle.
    Lfu { log_factor: u32, decay_minutes: u32 },
}

fn minutes(now_ms: i64) -> u32 {
    ((now_ms / 60_000) & 0xFFFF) as u32
}

fn seconds(now_ms: i64) -> u32 {
    (now_ms / 1000) as u32
}

impl AccessPolicy {
    /// The field of a key created now.
    pub fn fresh(self, now_ms: i64) -> u32 {
        match self {
            AccessPolicy::Lru => seconds(now_ms),
            AccessPolicy::Lfu { .. } => minutes(now_ms) << 8 | u32::from(LFU_INIT),
        }
    }

    /// Records one access.
    pub fn touch(self, access: &mut u32, now_ms: i64, rng: &mut impl Rng) {
        match self {
            AccessPolicy::Lru => *access = seconds(now_ms),
            AccessPolicy::Lfu { log_factor, .. } => {
                let mut counter = self.frequency(*access, now_ms);
                if counter < 255 {
                    let base = f64::from(counter.saturating_sub(LFU_INIT));
                    let p = 1.0 / (base * f64::from(log_factor) + 1.0);
                    if rng.gen::<f64>() < p {
                        counter += 1;
                    }
                }
                *access = minutes(now_ms) << 8 | u32::from(counter);
            }
        }
    }

    /// OBJECT FREQ: the counter after the decay owed for the minutes since it was last set.
    pub fn frequency(self, access: u32, now_ms: i64) -> u8 {
        let AccessPolicy::Lfu { decay_minutes, .. } = self else {
            return 0;
        };
        let counter = (access & 0xFF) as u8;
        let (then, now) = (access >> 8 & 0xFFFF, minutes(now_ms));
        let elapsed = if now >= then {
            now - then
        } else {
            0xFFFF - then + now
        };
        let periods = elapsed.checked_div(decay_minutes).unwrap_or(0);
        counter.saturating_sub(periods.min(255) as u8)
    }

    /// OBJECT IDLETIME: seconds since the last access (LRU field).
    pub fn idle_seconds(access: u32, now_ms: i64) -> u32 {
        seconds(now_ms).saturating_sub(access)
    }

    /// RESTORE IDLETIME / FREQ: applies whichever one the policy tracks, as Redis does.
    pub fn restore(self, access: &mut u32, now_ms: i64, idle: Option<i64>, freq: Option<i64>) {
        match (self, idle, freq) {
            (AccessPolicy::Lru, Some(idle), _) => {
                *access = seconds(now_ms).saturating_sub(idle.clamp(0, u32::MAX as i64) as u32)
            }
            (AccessPolicy::Lfu { .. }, _, Some(freq)) => {
                *access = minutes(now_ms) << 8 | freq.clamp(0, 255) as u32
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::SmallRng;
    use rand::SeedableRng;

    const LFU: AccessPolicy = AccessPolicy::Lfu {
        log_factor: 10,
        decay_minutes: 1,
    };

    #[test]
    fn lfu_counter_grows_logarithmically_and_decays_per_minute() {
        let mut rng = SmallRng::seed_from_u64(7);
        let now = 1_700_000_000_000;
        let mut a = LFU.fresh(now);
        assert_eq!(LFU.frequency(a, now), LFU_INIT);
        for _ in 0..1000 {
            LFU.touch(&mut a, now, &mut rng);
        }
        let hot = LFU.frequency(a, now);
        // With log factor 10, a thousand hits lift the counter by about a dozen, not 1000.
        assert!(hot > LFU_INIT + 3 && hot < 40, "{hot}");
        assert_eq!(LFU.frequency(a, now + 3 * 60_000), hot - 3);
        assert_eq!(LFU.frequency(a, now + 10_000 * 60_000), 0);
    }

    #[test]
    fn restore_sets_the_tracked_field_only() {
        let now = 1_700_000_000_000;
        let mut a = 0;
        AccessPolicy::Lru.restore(&mut a, now, Some(100), None);
        assert_eq!(AccessPolicy::idle_seconds(a, now), 100);
        let mut b = 0;
        LFU.restore(&mut b, now, Some(100), Some(42));
        assert_eq!(LFU.frequency(b, now), 42);
        let mut c = 7;
        AccessPolicy::Lru.restore(&mut c, now, None, Some(42));
        assert_eq!(c, 7);
    }
}
