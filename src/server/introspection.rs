//! Per-command statistics (INFO commandstats / errorstats) and the slow log, updated under the
//! keyspace lock with every command.

use bytes::Bytes;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

/// INFO commandstats figures for one command.
#[derive(Default, Debug, Clone)]
pub struct CmdStat {
    pub calls: u64,
    pub usec: u64,
    pub rejected_calls: u64,
    pub failed_calls: u64,
}

/// One SLOWLOG entry.
#[derive(Debug, Clone)]
pub struct SlowEntry {
    pub id: u64,
    pub time: i64,
    pub micros: u64,
    pub args: Vec<Bytes>,
    pub addr: String,
    pub name: String,
}

/// Arguments kept per slow log entry, and bytes kept per argument (SLOWLOG_ENTRY_MAX_*).
const SLOWLOG_MAX_ARGC: usize = 32;
const SLOWLOG_MAX_STRING: usize = 128;

/// Command statistics, error counters and the slow log.
#[derive(Default, Debug)]
pub struct Introspection {
    /// Figures per command, keyed by the address of its static table entry (a cheap, exact
    /// key for the per-command hot path); the name is kept for INFO.
    cmdstats: HashMap<usize, (&'static str, CmdStat), BuildHasherDefault<AddressHasher>>,
    /// Error code (`ERR`, `WRONGTYPE`, ...) → count.
    pub errorstats: BTreeMap<String, u64>,
    /// Total error replies.
    pub total_error_replies: u64,
    /// Newest first.
    pub slowlog: VecDeque<SlowEntry>,
    /// Unix seconds of the last successful save (start time until one happens), for LASTSAVE.
    pub last_save: i64,
    /// When the previous command of the current batch finished: the next command starts then,
    /// which saves a clock read per pipelined command. Cleared between batches.
    pub clock_mark: Option<std::time::Instant>,
    /// Nanoseconds commands have spent executing, in all: how busy clients keep the keyspace,
    /// which a snapshot's walk reads to leave them the server (`persistence::WalkPacer`).
    pub exec_nanos: u64,
    next_slow_id: u64,
}

/// Hashes the address of a static command entry: the bits above the alignment are already
/// well spread, so one multiply is enough.
#[derive(Default)]
pub struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.0 = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

impl Introspection {
    /// The statistics entry of a command or subcommand.
    pub fn stat(&mut self, key: crate::commands::table::StatKey) -> &mut CmdStat {
        &mut self
            .cmdstats
            .entry(key.id())
            .or_insert_with(|| (key.name, CmdStat::default()))
            .1
    }

    /// Every command's figures, sorted by name (INFO commandstats).
    pub fn stats_by_name(&self) -> Vec<(&'static str, &CmdStat)> {
        let mut v: Vec<_> = self.cmdstats.values().map(|(n, s)| (*n, s)).collect();
        v.sort_by_key(|(n, _)| *n);
        v
    }

    /// Empty statistics; `last_save` starts at the server's start time, as in Redis.
    pub fn new(last_save: i64) -> Self {
        Introspection {
            last_save,
            ..Default::default()
        }
    }

    /// Counts an error reply under its code (the first word).
    pub fn count_error(&mut self, msg: &str) {
        self.total_error_replies += 1;
        let code = msg.split(' ').next().unwrap_or("ERR");
        *self.errorstats.entry(code.to_string()).or_default() += 1;
    }

    /// Records a command that ran for `micros`, trimming its arguments as Redis does.
    pub fn log_slow(
        &mut self,
        args: &[Bytes],
        micros: u64,
        addr: String,
        name: String,
        max_len: usize,
    ) {
        let mut kept: Vec<Bytes> = Vec::new();
        let argc = args.len().min(SLOWLOG_MAX_ARGC);
        for (i, a) in args.iter().take(argc).enumerate() {
            if argc != args.len() && i == argc - 1 {
                kept.push(Bytes::from(format!(
                    "... ({} more arguments)",
                    args.len() - argc + 1
                )));
            } else if a.len() > SLOWLOG_MAX_STRING {
                let mut s = a[..SLOWLOG_MAX_STRING].to_vec();
                s.extend_from_slice(
                    format!("... ({} more bytes)", a.len() - SLOWLOG_MAX_STRING).as_bytes(),
                );
                kept.push(Bytes::from(s));
            } else {
                kept.push(a.clone());
            }
        }
        self.slowlog.push_front(SlowEntry {
            id: self.next_slow_id,
            time: crate::store::now_ms() / 1000,
            micros,
            args: kept,
            addr,
            name,
        });
        self.next_slow_id += 1;
        self.slowlog.truncate(max_len);
    }

    /// CONFIG RESETSTAT.
    pub fn reset(&mut self) {
        self.cmdstats.clear();
        self.errorstats.clear();
        self.total_error_replies = 0;
    }
}
