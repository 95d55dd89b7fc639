//! The one table of every directive Resplica accepts: name, alias, type, default, and whether
//! CONFIG SET may change it. The file parser, `--name value` overrides, CONFIG GET/SET/REWRITE
//! and redis.conf.example all follow this table.

/// How a directive's value is parsed and shown.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    /// `yes` / `no`.
    Bool,
    /// An integer within bounds.
    Int { min: i64, max: i64 },
    /// A byte count with optional k/kb/m/mb/g/gb suffix; shown in bytes.
    Memory { min: i64, max: i64 },
    /// One of a fixed set of words.
    Enum(&'static [&'static str]),
    /// Free text (may be empty).
    Str,
    /// `save` points: pairs of seconds and changes, or empty.
    Save,
    /// `bind` addresses, space separated.
    Bind,
    /// `client-output-buffer-limit <class> <hard> <soft> <seconds>`, one class per line.
    OutputBufferLimit,
    /// `notify-keyspace-events` class letters.
    NotifyFlags,
}

/// One configuration directive.
#[derive(Debug)]
pub struct Directive {
    /// Canonical name, as CONFIG GET prints it.
    pub name: &'static str,
    /// Older name accepted everywhere (`slave-*` for `replica-*`, ...).
    pub alias: Option<&'static str>,
    /// Value syntax.
    pub kind: Kind,
    /// Default, in the canonical form CONFIG GET prints.
    pub default: &'static str,
    /// CONFIG SET may change it at runtime.
    pub mutable: bool,
    /// Changing it at runtime requires `enable-protected-configs` (Redis 7.0's PROTECTED_CONFIG).
    pub protected: bool,
}

const MAX_I32: i64 = i32::MAX as i64;
const MAX_MEM: i64 = i64::MAX;

const fn d(name: &'static str, kind: Kind, default: &'static str) -> Directive {
    Directive {
        name,
        alias: None,
        kind,
        default,
        mutable: true,
        protected: false,
    }
}

const fn fixed(mut dir: Directive) -> Directive {
    dir.mutable = false;
    dir
}

const fn protected(mut dir: Directive) -> Directive {
    dir.protected = true;
    dir
}

const fn alias(mut dir: Directive, alias: &'static str) -> Directive {
    dir.alias = Some(alias);
    dir
}

const BOOL: Kind = Kind::Bool;
const STR: Kind = Kind::Str;
const fn int(min: i64, max: i64) -> Kind {
    Kind::Int { min, max }
}
const fn mem(min: i64, max: i64) -> Kind {
    Kind::Memory { min, max }
}

/// Values of the `enable-*-command` gates.
const GATE: Kind = Kind::Enum(&["no", "yes", "local"]);

/// Every directive, in the order CONFIG REWRITE appends them.
pub static DIRECTIVES: &[Directive] = &[
    // Network
    // Listeners are bound at startup; changing them at runtime is not supported yet.
    fixed(d("bind", Kind::Bind, "127.0.0.1 -::1")),
    d("protected-mode", BOOL, "yes"),
    fixed(d("port", int(0, 65535), "6379")),
    fixed(d("tcp-backlog", int(0, MAX_I32), "511")),
    d("timeout", int(0, MAX_I32), "0"),
    d("tcp-keepalive", int(0, MAX_I32), "300"),
    fixed(d("unixsocket", STR, "")),
    // General
    fixed(d("daemonize", BOOL, "no")),
    fixed(d(
        "supervised",
        Kind::Enum(&["no", "upstart", "systemd", "auto"]),
        "no",
    )),
    fixed(d("pidfile", STR, "")),
    d(
        "loglevel",
        Kind::Enum(&["debug", "verbose", "notice", "warning"]),
        "notice",
    ),
    fixed(d("logfile", STR, "")),
    fixed(d("syslog-enabled", BOOL, "no")),
    fixed(d("databases", int(1, MAX_I32), "16")),
    fixed(d("always-show-logo", BOOL, "no")),
    d("set-proc-title", BOOL, "yes"),
    d(
        "proc-title-template",
        STR,
        "{title} {listen-addr} {server-mode}",
    ),
    d("hz", int(0, MAX_I32), "10"),
    d("dynamic-hz", BOOL, "yes"),
    d("maxclients", int(1, MAX_I32), "10000"),
    fixed(d("io-threads", int(1, 128), "1")),
    fixed(d("io-threads-do-reads", BOOL, "no")),
    fixed(d("enable-protected-configs", GATE, "no")),
    fixed(d("enable-debug-command", GATE, "no")),
    fixed(d("enable-module-command", GATE, "no")),
    d("busy-reply-threshold", int(0, MAX_I32), "5000"),
    d("shutdown-timeout", int(0, MAX_I32), "10"),
    d(
        "shutdown-on-sigint",
        Kind::Enum(&["default", "save", "nosave", "now", "force"]),
        "default",
    ),
    d(
        "shutdown-on-sigterm",
        Kind::Enum(&["default", "save", "nosave", "now", "force"]),
        "default",
    ),
    // Snapshotting
    d("save", Kind::Save, "3600 1 300 100 60 10000"),
    d("stop-writes-on-bgsave-error", BOOL, "yes"),
    d("rdbcompression", BOOL, "yes"),
    d("rdbchecksum", BOOL, "yes"),
    d(
        "sanitize-dump-payload",
        Kind::Enum(&["no", "yes", "clients"]),
        "no",
    ),
    protected(d("dbfilename", STR, "dump.rdb")),
    d("rdb-del-sync-files", BOOL, "no"),
    protected(d("dir", STR, "")),
    // Security and limits
    d("requirepass", STR, ""),
    d("acllog-max-len", int(0, MAX_I32), "128"),
    d("maxmemory", mem(0, MAX_MEM), "0"),
    d(
        "maxmemory-policy",
        Kind::Enum(&[
            "volatile-lru",
            "volatile-lfu",
            "volatile-random",
            "volatile-ttl",
            "allkeys-lru",
            "allkeys-lfu",
            "allkeys-random",
            "noeviction",
        ]),
        "noeviction",
    ),
    d("maxmemory-samples", int(1, 64), "5"),
    d("lfu-log-factor", int(0, MAX_I32), "10"),
    d("lfu-decay-time", int(0, MAX_I32), "1"),
    d("maxmemory-eviction-tenacity", int(0, 100), "10"),
    d("proto-max-bulk-len", mem(1024 * 1024, MAX_MEM), "536870912"),
    d(
        "client-query-buffer-limit",
        mem(1024 * 1024, MAX_MEM),
        "1073741824",
    ),
    d(
        "client-output-buffer-limit",
        Kind::OutputBufferLimit,
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
    ),
    // Lazy freeing
    d("lazyfree-lazy-eviction", BOOL, "no"),
    d("lazyfree-lazy-expire", BOOL, "no"),
    d("lazyfree-lazy-server-del", BOOL, "no"),
    d("lazyfree-lazy-user-del", BOOL, "no"),
    d("lazyfree-lazy-user-flush", BOOL, "no"),
    alias(d("replica-lazy-flush", BOOL, "no"), "slave-lazy-flush"),
    // Append only file: Resplica does not write one yet, so only "no" is accepted.
    d("appendonly", BOOL, "no"),
    d("appendfilename", STR, "appendonly.aof"),
    fixed(d("appenddirname", STR, "appendonlydir")),
    d(
        "appendfsync",
        Kind::Enum(&["always", "everysec", "no"]),
        "everysec",
    ),
    // Keyspace events, slow log, latency
    d("notify-keyspace-events", Kind::NotifyFlags, ""),
    d("slowlog-log-slower-than", int(-1, i64::MAX), "10000"),
    d("slowlog-max-len", int(0, i64::MAX), "128"),
    d("latency-monitor-threshold", int(0, i64::MAX), "0"),
    d("latency-tracking", BOOL, "yes"),
    // Encodings (honoured by the data-type structures)
    alias(
        d("hash-max-listpack-entries", int(0, i64::MAX), "512"),
        "hash-max-ziplist-entries",
    ),
    alias(
        d("hash-max-listpack-value", int(0, i64::MAX), "64"),
        "hash-max-ziplist-value",
    ),
    alias(
        d(
            "list-max-listpack-size",
            int(i32::MIN as i64, MAX_I32),
            "-2",
        ),
        "list-max-ziplist-size",
    ),
    d("list-compress-depth", int(0, MAX_I32), "0"),
    d("set-max-intset-entries", int(0, i64::MAX), "512"),
    alias(
        d("zset-max-listpack-entries", int(0, i64::MAX), "128"),
        "zset-max-ziplist-entries",
    ),
    alias(
        d("zset-max-listpack-value", int(0, i64::MAX), "64"),
        "zset-max-ziplist-value",
    ),
    d("hll-sparse-max-bytes", mem(0, i64::MAX), "3000"),
    d("stream-node-max-bytes", mem(0, i64::MAX), "4096"),
    d("stream-node-max-entries", int(0, i64::MAX), "100"),
    d("activerehashing", BOOL, "yes"),
    d("active-expire-effort", int(1, 10), "1"),
    // Replication (stored now; behaviour arrives with the replication work)
    d("masterauth", STR, ""),
    d("masteruser", STR, ""),
    alias(
        d("replica-serve-stale-data", BOOL, "yes"),
        "slave-serve-stale-data",
    ),
    alias(d("replica-read-only", BOOL, "yes"), "slave-read-only"),
    d("repl-diskless-sync", BOOL, "yes"),
    d("repl-diskless-sync-delay", int(0, MAX_I32), "5"),
    d("repl-diskless-sync-max-replicas", int(0, MAX_I32), "0"),
    d(
        "repl-diskless-load",
        Kind::Enum(&["disabled", "on-empty-db", "swapdb"]),
        "disabled",
    ),
    alias(
        d("repl-ping-replica-period", int(1, MAX_I32), "10"),
        "repl-ping-slave-period",
    ),
    d("repl-timeout", int(1, MAX_I32), "60"),
    d("repl-disable-tcp-nodelay", BOOL, "no"),
    d("repl-backlog-size", mem(1, i64::MAX), "1048576"),
    d("repl-backlog-ttl", int(0, MAX_I32), "3600"),
    alias(
        d("replica-priority", int(0, MAX_I32), "100"),
        "slave-priority",
    ),
    d("replica-announced", BOOL, "yes"),
    alias(d("replica-announce-ip", STR, ""), "slave-announce-ip"),
    alias(
        d("replica-announce-port", int(0, 65535), "0"),
        "slave-announce-port",
    ),
    alias(
        d("replica-ignore-maxmemory", BOOL, "yes"),
        "slave-ignore-maxmemory",
    ),
    alias(
        d("min-replicas-to-write", int(0, MAX_I32), "0"),
        "min-slaves-to-write",
    ),
    alias(
        d("min-replicas-max-lag", int(0, MAX_I32), "10"),
        "min-slaves-max-lag",
    ),
    d(
        "propagation-error-behavior",
        Kind::Enum(&["ignore", "panic", "panic-on-replicas"]),
        "ignore",
    ),
    d("replica-ignore-disk-write-errors", BOOL, "no"),
];

/// Finds a directive by name or alias, case-insensitively.
pub fn lookup(name: &str) -> Option<&'static Directive> {
    DIRECTIVES.iter().find(|d| {
        d.name.eq_ignore_ascii_case(name) || d.alias.is_some_and(|a| a.eq_ignore_ascii_case(name))
    })
}
