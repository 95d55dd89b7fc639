//! INFO's `instantaneous_*` rates, computed as Redis does: every 100 ms the cron samples each
//! counter, and a rate is the mean of the last 16 per-sample rates (about 1.6 s of history).
//! Monitoring tools (redis-cli --stat, exporters, dashboards) read these fields.

use super::Stats;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

/// Samples kept per rate, as Redis's `STATS_METRIC_SAMPLES`.
const SAMPLES: usize = 16;
/// Minimum time between samples (Redis samples every 100 ms).
const PERIOD_MS: u128 = 100;

/// One counter's recent per-second rates.
#[derive(Default)]
struct Rate {
    last_value: u64,
    samples: [f64; SAMPLES],
    next: usize,
}

impl Rate {
    fn sample(&mut self, value: u64, elapsed_ms: f64) {
        let delta = value.saturating_sub(self.last_value) as f64;
        self.samples[self.next] = delta * 1000.0 / elapsed_ms;
        self.next = (self.next + 1) % SAMPLES;
        self.last_value = value;
    }

    fn per_sec(&self) -> f64 {
        self.samples.iter().sum::<f64>() / SAMPLES as f64
    }
}

/// The tracked rates: commands, and network bytes split as in INFO stats.
pub struct Metrics {
    last_sample: Instant,
    ops: Rate,
    net_input: Rate,
    net_output: Rate,
    repl_input: Rate,
    repl_output: Rate,
}

/// No history yet (counters start at zero): every rate reads 0 until the cron samples.
impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            last_sample: Instant::now(),
            ops: Rate::default(),
            net_input: Rate::default(),
            net_output: Rate::default(),
            repl_input: Rate::default(),
            repl_output: Rate::default(),
        }
    }
}

impl Metrics {
    /// Called by the cron at every tick; takes a sample when 100 ms have passed.
    pub fn sample(&mut self, stats: &Stats) {
        let elapsed = self.last_sample.elapsed();
        if elapsed.as_millis() < PERIOD_MS {
            return;
        }
        self.last_sample = Instant::now();
        let ms = elapsed.as_secs_f64() * 1000.0;
        self.ops
            .sample(stats.total_commands_processed.load(Relaxed), ms);
        self.net_input
            .sample(stats.net_input_bytes.load(Relaxed), ms);
        self.net_output
            .sample(stats.net_output_bytes.load(Relaxed), ms);
        self.repl_input
            .sample(stats.net_repl_input_bytes.load(Relaxed), ms);
        self.repl_output
            .sample(stats.net_repl_output_bytes.load(Relaxed), ms);
    }

    /// The INFO stats lines, in Redis's order and format (kbps with two decimals).
    pub fn info_ops(&self) -> String {
        format!(
            "instantaneous_ops_per_sec:{}\r\n",
            self.ops.per_sec() as u64
        )
    }

    /// `instantaneous_{input,output}[_repl]_kbps` lines.
    pub fn info_kbps(&self) -> String {
        let kbps = |r: &Rate| r.per_sec() / 1024.0;
        format!(
            "instantaneous_input_kbps:{:.2}\r\ninstantaneous_output_kbps:{:.2}\r\ninstantaneous_input_repl_kbps:{:.2}\r\ninstantaneous_output_repl_kbps:{:.2}\r\n",
            kbps(&self.net_input),
            kbps(&self.net_output),
            kbps(&self.repl_input),
            kbps(&self.repl_output),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::Rate;

    #[test]
    fn rate_is_the_mean_of_the_last_samples() {
        let mut r = Rate::default();
        for i in 1..=16 {
            r.sample(i * 100, 100.0); // 100 per 100 ms
        }
        assert_eq!(r.per_sec(), 1000.0);
        for i in 17..=32 {
            r.sample(1600 + (i - 16) * 10, 100.0); // then 10 per 100 ms
        }
        assert_eq!(r.per_sec(), 100.0);
    }
}
