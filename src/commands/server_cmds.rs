//! Server commands: INFO, CONFIG, COMMAND, TIME, LASTSAVE, MONITOR, SLOWLOG, MEMORY, DEBUG and
//! SHUTDOWN.

use super::table::{cmd, flags, flags::*, sub, CommandSpec};
use super::{
    arg_f64, arg_i64, arg_str, is_opt, reply_help, subcommand_syntax_error, unknown_subcommand,
    CmdError, CmdResult, Ctx,
};
use crate::server::{persistence, ClientKind, REDIS_VERSION, RESPLICA_VERSION};
use bytes::Bytes;
use std::fmt::Write as _;

/// The server commands.
pub static COMMANDS: &[CommandSpec] = &[
    cmd(
        "info",
        -1,
        LOADING | STALE,
        (0, 0, 0),
        "server",
        "1.0.0",
        "Get information and statistics about the server",
        info,
    ),
    cmd(
        "config",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "server",
        "2.0.0",
        "A container for server configuration commands",
        config,
    )
    .subcommands(&[
        sub("config|get", -3),
        sub("config|help", 2),
        sub("config|resetstat", 2),
        sub("config|rewrite", 2),
        sub("config|set", -4),
    ]),
    cmd(
        "command",
        -1,
        LOADING | STALE,
        (0, 0, 0),
        "server",
        "2.8.13",
        "Get array of Redis command details",
        command,
    )
    .subcommands(&[
        sub("command|count", 2),
        sub("command|docs", -2),
        sub("command|getkeys", -4),
        sub("command|help", 2),
        sub("command|info", -2),
        sub("command|list", -2),
    ]),
    cmd(
        "time",
        1,
        LOADING | STALE | FAST,
        (0, 0, 0),
        "server",
        "2.6.0",
        "Return the current server time",
        time,
    ),
    cmd(
        "lastsave",
        1,
        LOADING | STALE | FAST,
        (0, 0, 0),
        "server",
        "1.0.0",
        "Get the UNIX time stamp of the last successful save to disk",
        lastsave,
    ),
    cmd(
        "save",
        1,
        ADMIN | NOSCRIPT | NO_MULTI,
        (0, 0, 0),
        "server",
        "1.0.0",
        "Synchronously save the dataset to disk",
        save,
    ),
    cmd(
        "bgsave",
        -1,
        ADMIN | NOSCRIPT,
        (0, 0, 0),
        "server",
        "1.0.0",
        "Asynchronously save the dataset to disk",
        bgsave,
    ),
    cmd(
        "monitor",
        1,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "server",
        "1.0.0",
        "Listen for all requests received by the server in real time",
        monitor,
    ),
    cmd(
        "slowlog",
        -2,
        ADMIN | LOADING | STALE,
        (0, 0, 0),
        "server",
        "2.2.12",
        "A container for slow log commands",
        slowlog,
    )
    .subcommands(&[
        sub("slowlog|get", -2),
        sub("slowlog|help", 2),
        sub("slowlog|len", 2),
        sub("slowlog|reset", 2),
    ]),
    cmd(
        "memory",
        -2,
        READONLY,
        (0, 0, 0),
        "server",
        "4.0.0",
        "A container for memory diagnostics commands",
        memory,
    )
    .subcommands(&[
        sub("memory|doctor", 2),
        sub("memory|help", 2),
        sub("memory|malloc-stats", 2),
        sub("memory|purge", 2),
        sub("memory|usage", -3),
    ]),
    cmd(
        "debug",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "server",
        "1.0.0",
        "A container for debugging commands",
        debug,
    ),
    cmd(
        "shutdown",
        -1,
        ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | ALLOW_BUSY,
        (0, 0, 0),
        "server",
        "1.0.0",
        "Synchronously save the dataset to disk and then shut down the server",
        shutdown,
    ),
];

fn human_bytes(n: u64) -> String {
    let f = n as f64;
    if n < 1024 {
        format!("{n}B")
    } else if f < 1024.0 * 1024.0 {
        format!("{:.2}K", f / 1024.0)
    } else if f < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2}M", f / 1024.0 / 1024.0)
    } else {
        format!("{:.2}G", f / 1024.0 / 1024.0 / 1024.0)
    }
}

/// Physical memory of the machine, from /proc/meminfo.
fn total_system_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// (user, system) CPU seconds of this process, from /proc.
fn cpu_seconds() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 100.0
    };
    (ticks(11), ticks(12))
}

/// Section names INFO prints with no argument or `default`.
const DEFAULT_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "errorstats",
    "cluster",
    "keyspace",
];

fn info(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let mut wanted: Vec<String> = args[1..]
        .iter()
        .map(|a| arg_str(a).to_ascii_lowercase())
        .collect();
    if wanted.is_empty() || wanted.iter().any(|s| s == "default") {
        wanted.extend(DEFAULT_SECTIONS.iter().map(|s| s.to_string()));
    }
    if wanted.iter().any(|s| s == "all" || s == "everything") {
        wanted.extend(DEFAULT_SECTIONS.iter().map(|s| s.to_string()));
        wanted.push("commandstats".into());
        wanted.push("latencystats".into());
    }
    let order = [
        "server",
        "clients",
        "memory",
        "persistence",
        "stats",
        "replication",
        "cpu",
        "modules",
        "commandstats",
        "errorstats",
        "latencystats",
        "cluster",
        "keyspace",
    ];
    let mut text = String::new();
    for section in order {
        if !wanted.iter().any(|w| w == section) {
            continue;
        }
        if !text.is_empty() {
            text.push_str("\r\n");
        }
        info_section(ctx, section, &mut text);
    }
    ctx.out.verbatim(&text);
    Ok(())
}

fn info_section(ctx: &mut Ctx, section: &str, s: &mut String) {
    let shared = ctx.shared;
    let cfg = shared.config();
    let uptime = shared.started.elapsed().as_secs();
    macro_rules! field {
        ($k:expr, $v:expr) => {{
            let _ = write!(s, "{}:{}\r\n", $k, $v);
        }};
    }
    match section {
        "server" => {
            s.push_str("# Server\r\n");
            field!("redis_version", REDIS_VERSION);
            field!("redis_git_sha1", "00000000");
            field!("redis_git_dirty", 0);
            field!("redis_build_id", "0");
            field!("redis_mode", "standalone");
            field!(
                "os",
                format!("{} {}", std::env::consts::OS, std::env::consts::ARCH)
            );
            field!("arch_bits", 64);
            field!("monotonic_clock", "POSIX clock_gettime");
            field!("multiplexing_api", "epoll");
            field!("atomicvar_api", "c11-builtin");
            field!("gcc_version", "0.0.0");
            field!("process_id", std::process::id());
            field!("process_supervised", "no");
            field!("run_id", shared.run_id);
            field!("tcp_port", shared.port);
            field!("server_time_usec", (crate::store::now_ms() * 1000));
            field!("uptime_in_seconds", uptime);
            field!("uptime_in_days", (uptime / 86400));
            field!("hz", cfg.int("hz"));
            field!("configured_hz", cfg.int("hz"));
            field!("lru_clock", ((crate::store::now_ms() / 1000) & 0xFF_FFFF));
            field!("executable", shared.executable);
            field!(
                "config_file",
                cfg.file
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            );
            field!("io_threads_active", 0);
            field!("resplica_version", RESPLICA_VERSION);
        }
        "clients" => {
            s.push_str("# Clients\r\n");
            field!("connected_clients", shared.clients().len());
            field!("cluster_connections", 0);
            field!("maxclients", cfg.int("maxclients"));
            field!("client_recent_max_input_buffer", 0);
            field!("client_recent_max_output_buffer", 0);
            field!("blocked_clients", ctx.blocked.len());
            field!("tracking_clients", 0);
            field!("clients_in_timeout_table", 0);
        }
        "memory" => {
            use crate::server::memory;
            let (used, rss, peak) = (memory::used(), memory::rss(), memory::note_peak());
            let percent = |part: u64, whole: u64| {
                format!("{:.2}%", part as f64 * 100.0 / whole.max(1) as f64)
            };
            let replica_buffers = ctx.repl.replica_buffers();
            let backlog = ctx.repl.backlog.as_ref().map_or(0, |b| b.capacity() as u64);
            let overhead = replica_buffers + backlog;
            let maxmemory = cfg.int("maxmemory") as u64;
            let total_mem = total_system_memory();
            s.push_str("# Memory\r\n");
            field!("used_memory", used);
            field!("used_memory_human", human_bytes(used));
            field!("used_memory_rss", rss);
            field!("used_memory_rss_human", human_bytes(rss));
            field!("used_memory_peak", peak);
            field!("used_memory_peak_human", human_bytes(peak));
            field!("used_memory_peak_perc", percent(used, peak));
            field!("used_memory_overhead", overhead);
            field!("used_memory_startup", 0);
            field!("used_memory_dataset", used.saturating_sub(overhead));
            field!(
                "used_memory_dataset_perc",
                percent(used.saturating_sub(overhead), used)
            );
            field!("allocator_allocated", used);
            field!("allocator_active", rss);
            field!("allocator_resident", rss);
            field!("total_system_memory", total_mem);
            field!("total_system_memory_human", human_bytes(total_mem));
            field!("used_memory_lua", 0);
            field!("used_memory_vm_eval", 0);
            field!("used_memory_lua_human", "0B");
            field!("used_memory_scripts_eval", 0);
            field!("number_of_cached_scripts", 0);
            field!("number_of_functions", 0);
            field!("number_of_libraries", 0);
            field!("used_memory_vm_functions", 0);
            field!("used_memory_vm_total", 0);
            field!("used_memory_vm_total_human", "0B");
            field!("used_memory_functions", 0);
            field!("used_memory_scripts", 0);
            field!("used_memory_scripts_human", "0B");
            field!("maxmemory", maxmemory);
            field!("maxmemory_human", human_bytes(maxmemory));
            field!("maxmemory_policy", cfg.get("maxmemory-policy"));
            let frag = format!("{:.2}", rss as f64 / used.max(1) as f64);
            let frag_bytes = rss as i64 - used as i64;
            field!("allocator_frag_ratio", frag);
            field!("allocator_frag_bytes", frag_bytes);
            field!("allocator_rss_ratio", "1.00");
            field!("allocator_rss_bytes", 0);
            field!("rss_overhead_ratio", "1.00");
            field!("rss_overhead_bytes", 0);
            field!("mem_fragmentation_ratio", frag);
            field!("mem_fragmentation_bytes", frag_bytes);
            field!("mem_not_counted_for_evict", replica_buffers);
            field!("mem_replication_backlog", backlog);
            field!("mem_total_replication_buffers", replica_buffers + backlog);
            field!("mem_clients_slaves", replica_buffers);
            field!("mem_clients_normal", 0);
            field!("mem_cluster_links", 0);
            field!("mem_aof_buffer", 0);
            field!("mem_allocator", "libc");
            field!("active_defrag_running", 0);
            field!(
                "lazyfree_pending_objects",
                crate::store::lazyfree::pending()
            );
            field!("lazyfreed_objects", crate::store::lazyfree::freed());
        }
        "persistence" => {
            s.push_str("# Persistence\r\n");
            field!("loading", shared.loading.is_active() as i32);
            field!("async_loading", 0);
            field!("current_cow_peak", 0);
            field!("current_cow_size", 0);
            field!("current_cow_size_age", 0);
            field!("current_fork_perc", "0.00");
            field!("current_save_keys_processed", 0);
            field!("current_save_keys_total", 0);
            field!("rdb_changes_since_last_save", ctx.ks.dirty);
            let p = &*ctx.persistence;
            field!("rdb_bgsave_in_progress", p.bgsave_started.is_some() as i32);
            field!("rdb_last_save_time", ctx.intro.last_save);
            field!(
                "rdb_last_bgsave_status",
                if p.last_bgsave_ok { "ok" } else { "err" }
            );
            field!("rdb_last_bgsave_time_sec", p.last_bgsave_secs);
            field!(
                "rdb_current_bgsave_time_sec",
                p.bgsave_started
                    .map_or(-1, |t| t.elapsed().as_secs() as i64)
            );
            field!("rdb_saves", p.saves);
            field!("rdb_last_cow_size", 0);
            field!("rdb_last_load_keys_expired", 0);
            field!("rdb_last_load_keys_loaded", 0);
            field!("aof_enabled", 0);
            field!("aof_rewrite_in_progress", 0);
            field!("aof_rewrite_scheduled", 0);
            field!("aof_last_rewrite_time_sec", -1);
            field!("aof_current_rewrite_time_sec", -1);
            field!("aof_last_bgrewrite_status", "ok");
            field!("aof_rewrites", 0);
            field!("aof_rewrites_consecutive_failures", 0);
            field!("aof_last_write_status", "ok");
            field!("aof_last_cow_size", 0);
            field!("module_fork_in_progress", 0);
            field!("module_fork_last_cow_size", 0);
            if shared.loading.is_active() {
                s.push_str(&shared.loading.info(0));
            }
        }
        "stats" => {
            use std::sync::atomic::Ordering::Relaxed;
            let st = &shared.stats;
            let ks = &ctx.ks.stats;
            s.push_str("# Stats\r\n");
            field!(
                "total_connections_received",
                st.total_connections_received.load(Relaxed)
            );
            field!(
                "total_commands_processed",
                st.total_commands_processed.load(Relaxed)
            );
            let metrics = shared.metrics();
            s.push_str(&metrics.info_ops());
            field!("total_net_input_bytes", st.net_input_bytes.load(Relaxed));
            field!("total_net_output_bytes", st.net_output_bytes.load(Relaxed));
            field!(
                "total_net_repl_input_bytes",
                st.net_repl_input_bytes.load(Relaxed)
            );
            field!(
                "total_net_repl_output_bytes",
                st.net_repl_output_bytes.load(Relaxed)
            );
            s.push_str(&metrics.info_kbps());
            field!(
                "rejected_connections",
                st.rejected_connections.load(Relaxed)
            );
            let rs = &ctx.repl.stats;
            field!("sync_full", rs.sync_full);
            field!("sync_partial_ok", rs.sync_partial_ok);
            field!("sync_partial_err", rs.sync_partial_err);
            field!("expired_keys", ks.expired);
            field!(
                "expired_stale_perc",
                format!("{:.2}", ks.expired_stale_perc * 100.0)
            );
            field!("expired_time_cap_reached_count", 0);
            field!("expire_cycle_cpu_milliseconds", 0);
            field!("evicted_keys", ks.evicted);
            field!("evicted_clients", 0);
            field!("total_eviction_exceeded_time", 0);
            field!("current_eviction_exceeded_time", 0);
            field!("keyspace_hits", ks.hits);
            field!("keyspace_misses", ks.misses);
            {
                use crate::server::pubsub::Kind;
                field!("pubsub_channels", ctx.pubsub.len(Kind::Channel));
                field!("pubsub_patterns", ctx.pubsub.len(Kind::Pattern));
                field!("pubsubshard_channels", ctx.pubsub.len(Kind::Shard));
            }
            field!("latest_fork_usec", 0);
            field!("total_forks", 0);
            field!("migrate_cached_sockets", 0);
            field!("slave_expires_tracked_keys", 0);
            field!("active_defrag_hits", 0);
            field!("active_defrag_misses", 0);
            field!("active_defrag_key_hits", 0);
            field!("active_defrag_key_misses", 0);
            field!("total_active_defrag_time", 0);
            field!("current_active_defrag_time", 0);
            field!("tracking_total_keys", 0);
            field!("tracking_total_items", 0);
            field!("tracking_total_prefixes", 0);
            field!("unexpected_error_replies", 0);
            field!("total_error_replies", ctx.intro.total_error_replies);
            field!("dump_payload_sanitizations", 0);
            field!("total_reads_processed", 0);
            field!("total_writes_processed", 0);
            field!("io_threaded_reads_processed", 0);
            field!("io_threaded_writes_processed", 0);
            field!("reply_buffer_shrinks", 0);
            field!("reply_buffer_expands", 0);
            // Resplica's own: why full syncs happened, and how much write history the backlog holds.
            for (reason, n) in &ctx.repl.stats.full_reasons {
                field!(format!("sync_full_reason_{reason}"), n);
            }
            field!("repl_backlog_covers_ms", ctx.repl.backlog_covers_ms());
        }
        "replication" => s.push_str(&ctx.repl.info(&cfg)),
        "cpu" => {
            let (user, sys) = cpu_seconds();
            s.push_str("# CPU\r\n");
            field!("used_cpu_sys", format!("{sys:.6}"));
            field!("used_cpu_user", format!("{user:.6}"));
            field!("used_cpu_sys_children", "0.000000");
            field!("used_cpu_user_children", "0.000000");
        }
        "modules" => s.push_str("# Modules\r\n"),
        "commandstats" => {
            s.push_str("# Commandstats\r\n");
            for (name, st) in ctx.intro.stats_by_name() {
                let per = if st.calls > 0 {
                    st.usec as f64 / st.calls as f64
                } else {
                    0.0
                };
                let _ = write!(
                    s,
                    "cmdstat_{name}:calls={},usec={},usec_per_call={per:.2},rejected_calls={},failed_calls={}\r\n",
                    st.calls, st.usec, st.rejected_calls, st.failed_calls
                );
            }
        }
        "errorstats" => {
            s.push_str("# Errorstats\r\n");
            for (code, n) in &ctx.intro.errorstats {
                let _ = write!(s, "errorstat_{code}:count={n}\r\n");
            }
        }
        "latencystats" => s.push_str("# Latencystats\r\n"),
        "cluster" => {
            s.push_str("# Cluster\r\n");
            field!("cluster_enabled", 0);
        }
        "keyspace" => {
            s.push_str("# Keyspace\r\n");
            for i in 0..ctx.ks.db_count() {
                let db = ctx.ks.db(i);
                if db.keys.is_empty() {
                    continue;
                }
                let _ = write!(
                    s,
                    "db{i}:keys={},expires={},avg_ttl=0\r\n",
                    db.keys.len(),
                    db.volatile_count()
                );
            }
        }
        _ => {}
    }
}

/// Redis 7.0's gate for DEBUG, protected configs and MODULE: `no`, `yes`, or `local` (loopback
/// clients only).
fn gate_allows(ctx: &Ctx, directive: &str) -> bool {
    match ctx.shared.config().get(directive) {
        "yes" => true,
        "local" => ctx.client.handle.addr.ip().is_loopback(),
        _ => false,
    }
}

fn config(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let sub = arg_str(&args[1]).to_ascii_lowercase();
    match sub.as_str() {
        "get" => {
            let patterns: Vec<&[u8]> = args[2..].iter().map(|a| &a[..]).collect();
            let mut pairs = ctx.shared.config().matching(&patterns);
            if patterns
                .iter()
                .any(|p| crate::store::glob::glob_match(p, b"dir", true))
            {
                let cwd = std::env::current_dir()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default();
                for (name, value) in pairs.iter_mut() {
                    if *name == "dir" {
                        *value = cwd.clone();
                    }
                }
            }
            ctx.out.map(pairs.len());
            for (name, value) in pairs {
                ctx.out.bulk(name.as_bytes());
                ctx.out.bulk(value.as_bytes());
            }
        }
        "set" => {
            if !args.len().is_multiple_of(2) {
                return Err(CmdError::Syntax);
            }
            let pairs: Vec<(String, String)> = args[2..]
                .chunks(2)
                .map(|c| (arg_str(&c[0]).into_owned(), arg_str(&c[1]).into_owned()))
                .collect();
            if let Some((name, _)) = pairs
                .iter()
                .find(|(n, _)| crate::config::table::lookup(n).is_none())
            {
                return Err(CmdError::err(format!(
                    "Unknown option or number of arguments for CONFIG SET - '{name}'"
                )));
            }
            let protected_ok = gate_allows(ctx, "enable-protected-configs");
            let result = ctx.shared.config_mut().set_many(&pairs, protected_ok);
            match result {
                Ok(changed) => {
                    // The log level and other hot settings refresh with the config guard; the
                    // backlog is resized here, keeping the newest bytes that fit.
                    if changed.contains(&"repl-backlog-size") {
                        let size = ctx.shared.config().backlog_size();
                        if let Some(b) = ctx.repl.backlog.as_mut() {
                            b.resize(size);
                        }
                    }
                    ctx.out.ok();
                }
                Err(e) => {
                    return Err(CmdError::err(format!(
                        "CONFIG SET failed (possibly related to argument '{}') - {}",
                        e.param, e.reason
                    )))
                }
            }
        }
        "resetstat" => {
            ctx.intro.reset();
            ctx.ks.stats = Default::default();
            ctx.out.ok();
        }
        "rewrite" => {
            let result = ctx.shared.config().rewrite();
            match result {
                Ok(()) => {
                    tracing::info!("CONFIG REWRITE executed with success.");
                    ctx.out.ok();
                }
                Err(e) => {
                    tracing::warn!("CONFIG REWRITE failed: {e}");
                    return Err(CmdError::err(e));
                }
            }
        }
        "help" => {
            reply_help(
                ctx,
                &[
                    "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                    "GET <pattern>",
                    "    Return parameters matching the glob-like <pattern> and their values.",
                    "SET <directive> <value>",
                    "    Set the configuration <directive> to <value>.",
                    "RESETSTAT",
                    "    Reset statistics reported by the INFO command.",
                    "REWRITE",
                    "    Rewrite the configuration file.",
                    "HELP",
                    "    Prints this help.",
                ],
            );
        }
        _ => return Err(unknown_subcommand(args)),
    }
    Ok(())
}

/// ACL categories Redis derives for a command.
fn acl_categories(c: &CommandSpec) -> Vec<String> {
    // Redis prints categories in the bit order of its ACL_CATEGORY_* flags.
    const ORDER: [&str; 21] = [
        "keyspace",
        "read",
        "write",
        "set",
        "sortedset",
        "list",
        "hash",
        "string",
        "bitmap",
        "hyperloglog",
        "geo",
        "stream",
        "pubsub",
        "admin",
        "fast",
        "slow",
        "blocking",
        "dangerous",
        "connection",
        "transaction",
        "scripting",
    ];
    let mut on = [false; 21];
    let mut set = |name: &str| {
        if let Some(i) = ORDER.iter().position(|n| *n == name) {
            on[i] = true;
        }
    };
    let group = match c.group {
        "generic" => "keyspace",
        "sorted-set" => "sortedset",
        "transactions" => "transaction",
        g => g,
    };
    set(group);
    if c.flags & WRITE != 0 {
        set("write");
    }
    if c.flags & READONLY != 0 {
        set("read");
    }
    if c.flags & ADMIN != 0 {
        set("admin");
        set("dangerous");
    }
    if matches!(
        c.name,
        "keys" | "flushall" | "flushdb" | "swapdb" | "info" | "sort" | "lastsave" | "role"
    ) {
        set("dangerous");
    }
    if c.flags & BLOCKING != 0 {
        set("blocking");
    }
    set(if c.flags & FAST != 0 { "fast" } else { "slow" });
    ORDER
        .iter()
        .zip(on)
        .filter(|(_, on)| *on)
        .map(|(n, _)| format!("@{n}"))
        .collect()
}

fn command_info(ctx: &mut Ctx, c: &CommandSpec) {
    let out = &mut *ctx.out;
    out.array(10);
    out.bulk(c.name.as_bytes());
    out.int(c.arity as i64);
    let names: Vec<&str> = flags::NAMES
        .iter()
        .filter(|(f, _)| c.flags & f != 0)
        .map(|(_, n)| *n)
        .collect();
    out.set(names.len());
    for n in names {
        out.simple(n);
    }
    out.int(c.keys.0 as i64);
    out.int(c.keys.1 as i64);
    out.int(c.keys.2 as i64);
    let cats = acl_categories(c);
    out.set(cats.len());
    for cat in cats {
        out.simple(&cat);
    }
    out.set(0);
    out.array(0);
    out.array(0);
}

fn command_docs(ctx: &mut Ctx, c: &CommandSpec) {
    let out = &mut *ctx.out;
    out.bulk(c.name.as_bytes());
    out.map(3);
    out.bulk(b"summary");
    out.bulk(c.summary.as_bytes());
    out.bulk(b"since");
    out.bulk(c.since.as_bytes());
    out.bulk(b"group");
    out.bulk(c.group.as_bytes());
}

fn command(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let mut specs: Vec<&'static CommandSpec> = ctx.shared.commands.iter().map(|(_, c)| c).collect();
    specs.sort_by_key(|c| c.name);
    let Some(sub) = args.get(1) else {
        ctx.out.array(specs.len());
        for c in specs {
            command_info(ctx, c);
        }
        return Ok(());
    };
    let sub = arg_str(sub).to_ascii_lowercase();
    match sub.as_str() {
        "count" => ctx.out.int(specs.len() as i64),
        "info" => {
            let wanted: Vec<Option<&'static CommandSpec>> = if args.len() == 2 {
                specs.iter().map(|c| Some(*c)).collect()
            } else {
                args[2..]
                    .iter()
                    .map(|n| ctx.shared.commands.lookup(n))
                    .collect()
            };
            ctx.out.array(wanted.len());
            for c in wanted {
                match c {
                    Some(c) => command_info(ctx, c),
                    None => ctx.out.null(),
                }
            }
        }
        "docs" => {
            let wanted: Vec<&'static CommandSpec> = if args.len() == 2 {
                specs
            } else {
                args[2..]
                    .iter()
                    .filter_map(|n| ctx.shared.commands.lookup(n))
                    .collect()
            };
            ctx.out.map(wanted.len());
            for c in wanted {
                command_docs(ctx, c);
            }
        }
        "list" => {
            let names: Vec<&str> = match args.len() {
                2 => specs.iter().map(|c| c.name).collect(),
                5 if is_opt(&args[2], "filterby") => {
                    let (kind, value) = (arg_str(&args[3]).to_ascii_lowercase(), &args[4]);
                    match kind.as_str() {
                        "pattern" => specs
                            .iter()
                            .filter(|c| {
                                crate::store::glob::glob_match(value, c.name.as_bytes(), true)
                            })
                            .map(|c| c.name)
                            .collect(),
                        "aclcat" => {
                            let cat = format!("@{}", arg_str(value).to_ascii_lowercase());
                            specs
                                .iter()
                                .filter(|c| acl_categories(c).contains(&cat))
                                .map(|c| c.name)
                                .collect()
                        }
                        "module" => Vec::new(),
                        _ => return Err(CmdError::Syntax),
                    }
                }
                _ => return Err(CmdError::Syntax),
            };
            ctx.out.array(names.len());
            for n in names {
                ctx.out.bulk(n.as_bytes());
            }
        }
        "getkeys" => {
            let Some(c) = ctx.shared.commands.lookup(&args[2]) else {
                return Err(CmdError::err("Invalid command specified"));
            };
            let inner = &args[2..];
            if !c.arity_ok(inner.len()) {
                return Err(CmdError::err(
                    "Invalid number of arguments specified for command",
                ));
            }
            let keys = c.key_positions(inner);
            if keys.is_empty() {
                return Err(CmdError::err("The command has no key arguments"));
            }
            ctx.out.array(keys.len());
            for k in keys {
                ctx.out.bulk(&inner[k]);
            }
        }
        "help" => {
            reply_help(
                ctx,
                &[
                    "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                    "(no subcommand)",
                    "    Return details about all Redis commands.",
                    "COUNT",
                    "    Return the total number of commands in this Redis server.",
                    "LIST",
                    "    Return a list of all commands in this Redis server.",
                    "INFO [<command-name> ...]",
                    "    Return details about multiple Redis commands.",
                    "    If no command names are given, documentation details for all",
                    "    commands are returned.",
                    "DOCS [<command-name> ...]",
                    "    Return documentation details about multiple Redis commands.",
                    "    If no command names are given, documentation details for all",
                    "    commands are returned.",
                    "GETKEYS <full-command>",
                    "    Return the keys from a full Redis command.",
                    "HELP",
                    "    Prints this help.",
                ],
            );
        }
        _ => return Err(unknown_subcommand(args)),
    }
    Ok(())
}

fn time(ctx: &mut Ctx, _args: &[Bytes]) -> CmdResult {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    ctx.out.array(2);
    ctx.out.bulk(now.as_secs().to_string().as_bytes());
    ctx.out.bulk(now.subsec_micros().to_string().as_bytes());
    Ok(())
}

fn lastsave(ctx: &mut Ctx, _args: &[Bytes]) -> CmdResult {
    ctx.out.int(ctx.intro.last_save);
    Ok(())
}

fn monitor(ctx: &mut Ctx, _args: &[Bytes]) -> CmdResult {
    if !ctx.client.monitor {
        ctx.client.monitor = true;
        ctx.shared.add_monitor(ctx.client.handle.clone());
    }
    ctx.out.ok();
    Ok(())
}

fn slowlog(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let sub = arg_str(&args[1]).to_ascii_lowercase();
    match (sub.as_str(), args.len()) {
        ("get", 2 | 3) => {
            let count = match args.get(2) {
                None => 10,
                Some(a) => match arg_i64(a) {
                    Ok(-1) => i64::MAX,
                    Ok(n) if n >= 0 => n,
                    _ => return Err(CmdError::err("count should be greater than or equal to -1")),
                },
            };
            let entries: Vec<_> = ctx
                .intro
                .slowlog
                .iter()
                .take(usize::try_from(count).unwrap_or(usize::MAX))
                .cloned()
                .collect();
            ctx.out.array(entries.len());
            for e in entries {
                ctx.out.array(6);
                ctx.out.int(e.id as i64);
                ctx.out.int(e.time);
                ctx.out.int(e.micros as i64);
                ctx.out.array(e.args.len());
                for a in &e.args {
                    ctx.out.bulk(a);
                }
                ctx.out.bulk(e.addr.as_bytes());
                ctx.out.bulk(e.name.as_bytes());
            }
        }
        ("len", 2) => ctx.out.int(ctx.intro.slowlog.len() as i64),
        ("reset", 2) => {
            ctx.intro.slowlog.clear();
            ctx.out.ok();
        }
        ("help", 2) => {
            reply_help(
                ctx,
                &[
                    "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                    "GET [<count>]",
                    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
                    "    Entries are made of:",
                    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
                    "    client name",
                    "LEN",
                    "    Return the length of the slowlog.",
                    "RESET",
                    "    Reset the slowlog.",
                    "HELP",
                    "    Prints this help.",
                ],
            );
        }
        ("get", _) => return Err(subcommand_syntax_error(args)),
        _ => return Err(unknown_subcommand(args)),
    }
    Ok(())
}

/// Approximate bytes a key costs: the table node, the key and the value's heap part.
const NODE_OVERHEAD: usize = 64;

fn memory(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let sub = arg_str(&args[1]).to_ascii_lowercase();
    match sub.as_str() {
        "usage" => {
            if args.len() > 3 {
                if args.len() != 5 || !is_opt(&args[3], "samples") {
                    return Err(CmdError::Syntax);
                }
                arg_i64(&args[4])?;
            }
            let db = ctx.db();
            let key_len = args[2].len();
            match ctx.ks.peek(db, &args[2]) {
                Some(v) => {
                    let n = NODE_OVERHEAD + key_len + v.heap_size();
                    ctx.out.int(n as i64);
                }
                None => ctx.out.null(),
            }
        }
        // Redis answers these so with libc's allocator (no jemalloc statistics, nothing to purge).
        "malloc-stats" => ctx.out.verbatim("Stats not supported for the current allocator"),
        "purge" => ctx.out.ok(),
        "doctor" => ctx.out.verbatim("Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base."),
        "help" => {
            reply_help(
                ctx,
                &[
                    "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                    "DOCTOR",
                    "    Return memory problems reports.",
                    "MALLOC-STATS",
                    "    Return internal statistics report from the memory allocator.",
                    "PURGE",
                    "    Attempt to purge dirty pages for reclamation by the allocator.",
                    "USAGE <key> [SAMPLES <count>]",
                    "    Return memory in bytes used by <key> and its value. Nested values are",
                    "    sampled up to <count> times (default: 5, 0 means sample all).",
                    "HELP",
                    "    Prints this help.",
                ],
            );
        }
        _ => return Err(unknown_subcommand(args)),
    }
    Ok(())
}

fn debug(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    if !gate_allows(ctx, "enable-debug-command") {
        return Err(CmdError::err("DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server."));
    }
    let sub = arg_str(&args[1]).to_ascii_lowercase();
    match (sub.as_str(), args.len()) {
        ("sleep", 3) => {
            let secs = arg_f64(&args[2])?;
            // Holds the keyspace lock on purpose: DEBUG SLEEP blocks the whole server in Redis.
            std::thread::sleep(std::time::Duration::from_secs_f64(secs.clamp(0.0, 3600.0)));
            ctx.out.ok();
        }
        ("reload", 2) => {
            // Save, empty the keyspace and load the file again: a full round trip through RDB.
            let cfg = ctx.shared.config().clone();
            persistence::save_foreground(
                ctx.ks,
                ctx.persistence,
                &mut ctx.intro.last_save,
                &cfg,
                ctx.repl.rdb_aux(),
            )
            .map_err(|_| CmdError::err("Error trying to save the DB"))?;
            ctx.ks.flush_all(false);
            let path = persistence::rdb_path(&cfg);
            persistence::load_file(ctx.ks, &path, ctx.limits(), None).map_err(|e| {
                tracing::warn!("DEBUG RELOAD failed to load {}: {e}", path.display());
                CmdError::err("Error trying to load the RDB dump, check server logs.")
            })?;
            tracing::info!("DB reloaded by DEBUG RELOAD");
            ctx.out.ok();
        }
        ("change-repl-id", 2) => {
            ctx.repl.replid = crate::server::random_hex(40);
            ctx.repl.replid2 = crate::replication::NO_REPLID.to_string();
            ctx.repl.second_replid_offset = -1;
            tracing::info!(
                "DEBUG CHANGE-REPL-ID: new replication id {}",
                ctx.repl.replid
            );
            ctx.out.ok();
        }
        ("populate", 3..=5) => {
            // Redis's: `key:<i>` = `value:<i>` (or padded with zero bytes to <size>); existing
            // keys are left alone. Not propagated, as in Redis.
            let count = arg_i64(&args[2])?;
            if count < 0 {
                return Err(CmdError::err("count is negative"));
            }
            let prefix = args.get(3).map_or(&b"key"[..], |p| &p[..]);
            let size = match args.get(4) {
                Some(a) => {
                    usize::try_from(arg_i64(a)?).map_err(|_| CmdError::err("size is negative"))?
                }
                None => 0,
            };
            let db = ctx.db();
            let mut key = Vec::with_capacity(prefix.len() + 21);
            for i in 0..count {
                key.clear();
                key.extend_from_slice(prefix);
                key.extend_from_slice(format!(":{i}").as_bytes());
                if ctx.ks.exists(db, &key) {
                    continue;
                }
                let mut value = format!("value:{i}").into_bytes();
                if size > 0 {
                    value.resize(size, 0);
                }
                ctx.ks
                    .set(db, &key, crate::store::Value::string_from_vec(value), false);
            }
            ctx.out.ok();
        }
        ("set-active-expire", 3) => {
            ctx.ks.active_expire = arg_i64(&args[2])? != 0;
            ctx.out.ok();
        }
        ("object", 3) => {
            let db = ctx.db();
            let limits = ctx.limits();
            let now = (ctx.ks.now / 1000) as u32;
            let Some(e) = ctx.ks.peek_entry(db, &args[2]) else {
                return Err(CmdError::err("no such key"));
            };
            let text = format!(
                "Value at:0x{:x} refcount:1 encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{}",
                e as *const _ as usize,
                e.value.encoding(&limits),
                e.value.heap_size().max(1),
                e.access & 0xFF_FFFF,
                now.saturating_sub(e.access)
            );
            ctx.out.simple(&text);
        }
        ("help", _) => {
            reply_help(
                ctx,
                &[
                    "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                    "OBJECT <key>",
                    "    Show low level info about the key and associated value.",
                    "POPULATE <count> [<prefix>] [<size>]",
                    "    Create <count> string keys named key:<num>. If <prefix> is specified then",
                    "    it is used instead of the 'key' prefix. These are not propagated to",
                    "    replicas. Cache will be evicted as needed.",
                    "SET-ACTIVE-EXPIRE <0|1>",
                    "    Setting it to 0 disables expiring keys in background when they are not",
                    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
                    "    default.",
                    "RELOAD",
                    "    Save the RDB on disk and reload it back to memory.",
                    "SLEEP <seconds>",
                    "    Stop the server for <seconds>. Decimals allowed.",
                    "HELP",
                    "    Prints this help.",
                ],
            );
        }
        _ => return Err(subcommand_syntax_error(args)),
    }
    Ok(())
}

fn shutdown(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let (mut save, mut nosave, mut abort, mut force) = (false, false, false, false);
    for a in &args[1..] {
        if is_opt(a, "save") {
            save = true;
        } else if is_opt(a, "nosave") {
            nosave = true;
        } else if is_opt(a, "abort") {
            abort = true;
        } else if is_opt(a, "force") {
            force = true;
        } else if !is_opt(a, "now") {
            return Err(CmdError::Syntax);
        }
    }
    if (save && nosave) || (abort && args.len() > 2) {
        return Err(CmdError::Syntax);
    }
    if abort {
        return Err(CmdError::err("No shutdown in progress."));
    }
    if ctx.client.kind != ClientKind::Normal {
        return Err(CmdError::err(
            "SHUTDOWN is not allowed from a replication link",
        ));
    }
    tracing::warn!("User requested shutdown...");
    let cfg = ctx.shared.config().clone();
    // A dataset still loading is not saved over the file it comes from.
    let loading = ctx.shared.loading.is_active();
    if (save || (!nosave && persistence::has_save_points(&cfg))) && !loading {
        if let Err(e) = final_save(ctx, &cfg) {
            tracing::warn!("Error trying to save the DB, can't exit: {e}");
            if !force {
                return Err(CmdError::err("Errors trying to SHUTDOWN. Check logs."));
            }
        }
    }
    ctx.shared.mark_final_save_done();
    ctx.client.shutdown_requested = true;
    ctx.client.close_after_reply = true;
    Ok(())
}

/// The save SHUTDOWN performs: a running background save is abandoned first, as Redis kills its
/// child.
fn final_save(ctx: &mut Ctx, cfg: &crate::config::Config) -> Result<(), String> {
    persistence::kill_bgsave(ctx.ks, ctx.persistence);
    tracing::info!("Saving the final RDB snapshot before exiting.");
    persistence::save_foreground(
        ctx.ks,
        ctx.persistence,
        &mut ctx.intro.last_save,
        cfg,
        ctx.repl.rdb_aux(),
    )
}

fn save(ctx: &mut Ctx, _args: &[Bytes]) -> CmdResult {
    let cfg = ctx.shared.config().clone();
    persistence::save_foreground(
        ctx.ks,
        ctx.persistence,
        &mut ctx.intro.last_save,
        &cfg,
        ctx.repl.rdb_aux(),
    )
    .map_err(|e| {
        if e.contains("already in progress") {
            CmdError::err(e)
        } else {
            CmdError::Msg("ERR".into())
        }
    })?;
    ctx.out.ok();
    Ok(())
}

fn bgsave(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let schedule = match args.get(1) {
        None => false,
        Some(a) if is_opt(a, "schedule") && args.len() == 2 => true,
        Some(_) => return Err(CmdError::Syntax),
    };
    if ctx.persistence.bgsave_started.is_some() {
        if schedule {
            ctx.persistence.scheduled = true;
            ctx.out.simple("Background saving scheduled");
            return Ok(());
        }
        return Err(CmdError::err("Background save already in progress"));
    }
    let shared = ctx
        .shared
        .self_arc()
        .ok_or_else(|| CmdError::err("server is shutting down"))?;
    persistence::start_bgsave(&shared, ctx.ks, ctx.persistence, ctx.repl.rdb_aux())
        .map_err(CmdError::err)?;
    ctx.out.simple("Background saving started");
    Ok(())
}
