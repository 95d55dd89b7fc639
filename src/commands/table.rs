//! The command table: one [`CommandSpec`] per command, gathered from the family files, with
//! `rename-command` applied. COMMAND, COMMAND INFO/DOCS/COUNT/LIST and dispatch all read it.

use super::{CmdResult, Ctx};
use bytes::Bytes;
use std::collections::HashMap;

/// Command flags, named as Redis 7.0's COMMAND INFO prints them.
pub mod flags {
    pub const WRITE: u32 = 1 << 0;
    pub const READONLY: u32 = 1 << 1;
    pub const DENYOOM: u32 = 1 << 2;
    pub const ADMIN: u32 = 1 << 3;
    pub const PUBSUB: u32 = 1 << 4;
    pub const NOSCRIPT: u32 = 1 << 5;
    pub const BLOCKING: u32 = 1 << 6;
    pub const LOADING: u32 = 1 << 7;
    pub const STALE: u32 = 1 << 8;
    pub const SKIP_MONITOR: u32 = 1 << 9;
    pub const SKIP_SLOWLOG: u32 = 1 << 10;
    pub const FAST: u32 = 1 << 11;
    pub const NO_AUTH: u32 = 1 << 12;
    pub const MAY_REPLICATE: u32 = 1 << 13;
    pub const NO_MULTI: u32 = 1 << 14;
    pub const ALLOW_BUSY: u32 = 1 << 15;
    /// Keys are found through a `numkeys` argument (see `numkeys_position`).
    pub const MOVABLE_KEYS: u32 = 1 << 16;

    /// Flag names in the order COMMAND INFO lists them.
    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (MAY_REPLICATE, "may_replicate"),
        (NO_MULTI, "no_multi"),
        (ALLOW_BUSY, "allow_busy"),
        (MOVABLE_KEYS, "movablekeys"),
    ];
}

/// A command handler.
pub type Handler = fn(&mut Ctx, &[Bytes]) -> CmdResult;

/// The member a hash, set or sorted-set command looks up in its key's collection first, so a
/// pipelined batch can prefetch it (see `server::connection`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberArg {
    /// Nothing worth prefetching (or not a collection command).
    None,
    /// The argument at this position: HSET key field ..., SADD key member ...
    At(usize),
    /// The last argument, when there are at least four: ZADD key [flags] score member.
    Last,
    /// Pops from the low (`max: false`) or high end of a sorted set, count at position 2.
    Pop { max: bool },
}

/// A subcommand of a container command (CLIENT, CONFIG, OBJECT, ...), as Redis 7.0 declares
/// it: the dispatcher refuses an unknown subcommand or a wrong argument count before the
/// handler runs, and INFO commandstats counts each subcommand on its own `container|name`
/// line, as monitoring tools expect.
pub struct Subcommand {
    /// `container|name`, lowercase.
    pub full_name: &'static str,
    /// Redis arity, counting the container's name and the subcommand's.
    pub arity: i32,
}

/// Shorthand constructor for the containers' subcommand lists.
pub const fn sub(full_name: &'static str, arity: i32) -> Subcommand {
    Subcommand { full_name, arity }
}

impl Subcommand {
    /// The name after the `|`.
    pub fn name(&self) -> &'static str {
        self.full_name
            .split_once('|')
            .map_or(self.full_name, |(_, n)| n)
    }

    /// Where calls of this subcommand are counted.
    pub fn stat_key(&'static self) -> StatKey {
        StatKey::of(self, self.full_name)
    }
}

/// The INFO commandstats line a call counts on: a command's, or a container's subcommand's.
/// Identified by the static entry's address, so finding it on every call hashes one word.
#[derive(Clone, Copy)]
pub struct StatKey {
    /// The line's name (`get`, `client|list`).
    pub name: &'static str,
    id: usize,
}

impl StatKey {
    /// The entry's identity for the statistics table.
    pub fn id(&self) -> usize {
        self.id
    }

    fn of<T>(entry: &'static T, name: &'static str) -> StatKey {
        StatKey {
            name,
            id: entry as *const T as usize,
        }
    }
}

/// True when `argc` arguments (name included) satisfy a Redis arity: exactly `arity`, or at
/// least `-arity` when negative.
pub fn arity_allows(arity: i32, argc: usize) -> bool {
    (arity >= 0 && argc == arity as usize) || (arity < 0 && argc >= arity.unsigned_abs() as usize)
}

/// One command's metadata and handler.
pub struct CommandSpec {
    /// Lowercase name.
    pub name: &'static str,
    /// Redis arity: exact argument count including the name, or -N for "at least N".
    pub arity: i32,
    /// Bitwise OR of [`flags`].
    pub flags: u32,
    /// First key position, last key position (-1: last argument), step.
    pub keys: (i32, i32, i32),
    /// Documentation group (`string`, `generic`, `server`, `connection`, ...).
    pub group: &'static str,
    /// Version of Redis that introduced the command.
    pub since: &'static str,
    /// One-line summary for COMMAND DOCS.
    pub summary: &'static str,
    /// The implementation.
    pub handler: Handler,
    /// The member it looks up first, for the batch prefetch.
    pub member: MemberArg,
    /// A container's subcommands (empty for other commands).
    pub subcommands: &'static [Subcommand],
}

impl CommandSpec {
    /// The same command, declaring the member it looks up first.
    pub const fn member(mut self, member: MemberArg) -> Self {
        self.member = member;
        self
    }

    /// The same command as a container of `subcommands`.
    pub const fn subcommands(mut self, subcommands: &'static [Subcommand]) -> Self {
        self.subcommands = subcommands;
        self
    }

    /// The subcommand `arg` names (any case), for a container.
    pub fn subcommand(&self, arg: &[u8]) -> Option<&'static Subcommand> {
        self.subcommands
            .iter()
            .find(|s| s.name().as_bytes().eq_ignore_ascii_case(arg))
    }

    /// Where calls of this command are counted.
    pub fn stat_key(&'static self) -> StatKey {
        StatKey::of(self, self.name)
    }

    /// True if the command may modify the keyspace.
    pub fn is_write(&self) -> bool {
        self.flags & flags::WRITE != 0
    }

    /// True when `argc` arguments (name included) satisfy the arity.
    pub fn arity_ok(&self, argc: usize) -> bool {
        arity_allows(self.arity, argc)
    }

    /// Positions of the key arguments in `args` (COMMAND GETKEYS): the fixed range, plus the
    /// keys counted by a `numkeys` argument for movable-key commands.
    pub fn key_positions(&self, args: &[Bytes]) -> Vec<usize> {
        let argc = args.len();
        let (first, last, step) = self.keys;
        let mut keys: Vec<usize> = Vec::new();
        if first > 0 && step > 0 {
            let last = if last < 0 { argc as i32 + last } else { last };
            keys.extend(
                (first..=last.min(argc as i32 - 1))
                    .step_by(step as usize)
                    .map(|i| i as usize),
            );
        }
        if let Some(pos) = numkeys_position(self.name) {
            let n = args
                .get(pos)
                .and_then(|a| crate::num::parse_i64(a))
                .filter(|&n| n > 0)
                .map_or(0, |n| n as usize);
            let counted: Vec<usize> = (pos + 1..(pos + 1 + n).min(argc))
                .filter(|i| !keys.contains(i))
                .collect();
            keys.extend(counted);
        }
        if self.name == "sort" {
            keys.extend(super::sort::store_key_position(args));
        }
        keys
    }
}

/// Where the `numkeys` argument sits in commands whose keys it counts (the keys follow it).
pub fn numkeys_position(name: &str) -> Option<usize> {
    match name {
        "lmpop" | "zmpop" | "sintercard" | "zintercard" | "zunion" | "zinter" | "zdiff" => Some(1),
        "blmpop" | "bzmpop" | "zunionstore" | "zinterstore" | "zdiffstore" => Some(2),
        _ => None,
    }
}

/// Shorthand constructor used by the family tables.
#[allow(clippy::too_many_arguments)]
pub const fn cmd(
    name: &'static str,
    arity: i32,
    flags: u32,
    keys: (i32, i32, i32),
    group: &'static str,
    since: &'static str,
    summary: &'static str,
    handler: Handler,
) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        flags,
        keys,
        group,
        since,
        summary,
        handler,
        member: MemberArg::None,
        subcommands: &[],
    }
}

/// Longest command name we look up; longer names are unknown without allocating.
const MAX_NAME: usize = 64;

/// Name → command, after `rename-command`.
pub struct CommandTable {
    by_name: HashMap<Vec<u8>, &'static CommandSpec, NameHasher>,
}

/// The command-name hasher: the store's fast seeded hash (the table is built once and names
/// are short), instead of SipHash on every request.
#[derive(Clone, Default)]
pub struct NameHasher;

impl std::hash::BuildHasher for NameHasher {
    type Hasher = NameHash;
    fn build_hasher(&self) -> NameHash {
        NameHash(0)
    }
}

/// State of [`NameHasher`].
pub struct NameHash(u64);

impl std::hash::Hasher for NameHash {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0 = crate::store::hash_bytes(self.0 ^ 0x5151_5151, bytes);
    }
}

/// Every command of every family.
pub fn all_commands() -> impl Iterator<Item = &'static CommandSpec> {
    [
        super::strings::COMMANDS,
        super::keys::COMMANDS,
        super::connection::COMMANDS,
        super::server_cmds::COMMANDS,
        super::bitops::COMMANDS,
        super::lists::COMMANDS,
        super::hashes::COMMANDS,
        super::sets::COMMANDS,
        super::zsets::COMMANDS,
        super::pubsub::COMMANDS,
        super::transactions::COMMANDS,
        super::replication::COMMANDS,
        super::dump::COMMANDS,
        super::sort::COMMANDS,
    ]
    .into_iter()
    .flatten()
}

impl CommandTable {
    /// Builds the table, applying `rename-command old new` pairs (an empty new name disables).
    pub fn new(renames: &[(String, String)]) -> Result<Self, String> {
        let mut by_name: HashMap<Vec<u8>, &'static CommandSpec, NameHasher> = all_commands()
            .map(|c| (c.name.as_bytes().to_vec(), c))
            .collect();
        for (old, new) in renames {
            let Some(spec) = by_name.remove(old.to_ascii_lowercase().as_bytes()) else {
                return Err(format!("No such command in rename-command: {old}"));
            };
            if !new.is_empty() {
                by_name.insert(new.to_ascii_lowercase().into_bytes(), spec);
            }
        }
        Ok(CommandTable { by_name })
    }

    /// Case-insensitive lookup.
    pub fn lookup(&self, name: &[u8]) -> Option<&'static CommandSpec> {
        if name.len() > MAX_NAME {
            return None;
        }
        let mut buf = [0u8; MAX_NAME];
        let lower = &mut buf[..name.len()];
        lower.copy_from_slice(name);
        lower.make_ascii_lowercase();
        self.by_name.get(&lower[..]).copied()
    }

    /// `(name as callable now, spec)` for every command.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &'static CommandSpec)> {
        self.by_name.iter().map(|(k, v)| (k.as_slice(), *v))
    }

    /// Number of callable commands.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// True if every command was renamed away.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}
