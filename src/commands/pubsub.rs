//! Pub/sub commands (Redis's `pubsub.c`): SUBSCRIBE and friends, PUBLISH, SPUBLISH and PUBSUB.

use super::table::{cmd, flags::*, sub, CommandSpec};
use super::{arg_str, reply_help, subcommand_syntax_error, CmdResult, Ctx};
use crate::server::pubsub::{Kind, Subscriber};
use crate::server::ClientKind;
use bytes::Bytes;

/// The pub/sub commands.
pub static COMMANDS: &[CommandSpec] = &[
    cmd(
        "subscribe",
        -2,
        PUBSUB | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "pubsub",
        "2.0.0",
        "Listen for messages published to the given channels",
        subscribe,
    ),
    cmd(
        "unsubscribe",
        -1,
        PUBSUB | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "pubsub",
        "2.0.0",
        "Stop listening for messages posted to the given channels",
        unsubscribe,
    ),
    cmd(
        "psubscribe",
        -2,
        PUBSUB | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "pubsub",
        "2.0.0",
        "Listen for messages published to channels matching the given patterns",
        psubscribe,
    ),
    cmd(
        "punsubscribe",
        -1,
        PUBSUB | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "pubsub",
        "2.0.0",
        "Stop listening for messages posted to channels matching the given patterns",
        punsubscribe,
    ),
    cmd(
        "ssubscribe",
        -2,
        PUBSUB | NOSCRIPT | LOADING | STALE,
        (1, -1, 1),
        "pubsub",
        "7.0.0",
        "Listen for messages published to the given shard channels",
        ssubscribe,
    ),
    cmd(
        "sunsubscribe",
        -1,
        PUBSUB | NOSCRIPT | LOADING | STALE,
        (1, -1, 1),
        "pubsub",
        "7.0.0",
        "Stop listening for messages posted to the given shard channels",
        sunsubscribe,
    ),
    cmd(
        "publish",
        3,
        PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE,
        (0, 0, 0),
        "pubsub",
        "2.0.0",
        "Post a message to a channel",
        publish,
    ),
    cmd(
        "spublish",
        3,
        PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE,
        (1, 1, 1),
        "pubsub",
        "7.0.0",
        "Post a message to a shard channel",
        spublish,
    ),
    cmd(
        "pubsub",
        -2,
        PUBSUB | LOADING | STALE,
        (0, 0, 0),
        "pubsub",
        "2.8.0",
        "A container for Pub/Sub commands",
        pubsub,
    )
    .subcommands(&[
        sub("pubsub|channels", -2),
        sub("pubsub|help", 2),
        sub("pubsub|numpat", 2),
        sub("pubsub|numsub", -2),
        sub("pubsub|shardchannels", -2),
        sub("pubsub|shardnumsub", -2),
    ]),
];

/// The reply word of a (un)subscription of `kind`.
fn word(kind: Kind, sub: bool) -> &'static [u8] {
    match (kind, sub) {
        (Kind::Channel, true) => b"subscribe",
        (Kind::Channel, false) => b"unsubscribe",
        (Kind::Pattern, true) => b"psubscribe",
        (Kind::Pattern, false) => b"punsubscribe",
        (Kind::Shard, true) => b"ssubscribe",
        (Kind::Shard, false) => b"sunsubscribe",
    }
}

/// The count Redis reports after a (un)subscription: channels + patterns, or shard channels.
fn sub_count(ctx: &Ctx, kind: Kind) -> usize {
    let s = &ctx.client.subs;
    match kind {
        Kind::Shard => s.shards.len(),
        _ => s.channels.len() + s.patterns.len(),
    }
}

fn confirm(ctx: &mut Ctx, kind: Kind, sub: bool, name: Option<&[u8]>) {
    let count = sub_count(ctx, kind);
    ctx.out.push(3);
    ctx.out.bulk(word(kind, sub));
    match name {
        Some(n) => ctx.out.bulk(n),
        None => ctx.out.null(),
    }
    ctx.out.int(count as i64);
}

/// Keeps CLIENT LIST's view (flag P, sub/psub/ssub counts) in step with the subscriptions.
fn sync_kind(ctx: &mut Ctx) {
    let s = &ctx.client.subs;
    let (n, p, sh) = (s.channels.len(), s.patterns.len(), s.shards.len());
    if ctx.client.kind == ClientKind::Normal || ctx.client.kind == ClientKind::PubSub {
        ctx.client.kind = if n + p + sh > 0 {
            ClientKind::PubSub
        } else {
            ClientKind::Normal
        };
    }
    let kind = ctx.client.kind;
    ctx.client.handle.update(|i| {
        i.kind = kind;
        i.subs = (n, p, sh);
    });
}

fn subscribe_generic(ctx: &mut Ctx, args: &[Bytes], kind: Kind) -> CmdResult {
    for name in &args[1..] {
        let sub = Subscriber {
            handle: ctx.client.handle.clone(),
            resp: ctx.out.resp,
        };
        if ctx.pubsub.subscribe(kind, name, sub) {
            ctx.client.subs.set(kind).insert(name.to_vec());
        }
        confirm(ctx, kind, true, Some(name));
    }
    sync_kind(ctx);
    Ok(())
}

fn unsubscribe_generic(ctx: &mut Ctx, args: &[Bytes], kind: Kind) -> CmdResult {
    let names: Vec<Vec<u8>> = if args.len() > 1 {
        args[1..].iter().map(|a| a.to_vec()).collect()
    } else {
        ctx.client.subs.set(kind).iter().cloned().collect()
    };
    if names.is_empty() {
        confirm(ctx, kind, false, None);
    }
    let id = ctx.client.id();
    for name in names {
        ctx.pubsub.unsubscribe(kind, &name, id);
        ctx.client.subs.set(kind).remove(&name);
        confirm(ctx, kind, false, Some(&name));
    }
    sync_kind(ctx);
    Ok(())
}

fn subscribe(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    subscribe_generic(ctx, args, Kind::Channel)
}

fn unsubscribe(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    unsubscribe_generic(ctx, args, Kind::Channel)
}

fn psubscribe(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    subscribe_generic(ctx, args, Kind::Pattern)
}

fn punsubscribe(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    unsubscribe_generic(ctx, args, Kind::Pattern)
}

fn ssubscribe(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    subscribe_generic(ctx, args, Kind::Shard)
}

fn sunsubscribe(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    unsubscribe_generic(ctx, args, Kind::Shard)
}

fn publish(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let n = ctx.pubsub.publish(Kind::Channel, &args[1], &args[2]);
    ctx.out.int(n as i64);
    Ok(())
}

fn spublish(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let n = ctx.pubsub.publish(Kind::Shard, &args[1], &args[2]);
    ctx.out.int(n as i64);
    Ok(())
}

const PUBSUB_HELP: &[&str] = &[
    "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
    "HELP",
    "    Prints this help.",
];

fn pubsub(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let sub = arg_str(&args[1]).to_ascii_lowercase();
    match sub.as_str() {
        "channels" | "shardchannels" if args.len() <= 3 => {
            let kind = if sub == "channels" {
                Kind::Channel
            } else {
                Kind::Shard
            };
            let mut names = ctx.pubsub.names(kind, args.get(2).map(|p| &p[..]));
            names.sort();
            ctx.out.array(names.len());
            for n in names {
                ctx.out.bulk(&n);
            }
        }
        "numsub" | "shardnumsub" => {
            let kind = if sub == "numsub" {
                Kind::Channel
            } else {
                Kind::Shard
            };
            ctx.out.map(args.len() - 2);
            for name in &args[2..] {
                ctx.out.bulk(name);
                ctx.out.int(ctx.pubsub.count(kind, name) as i64);
            }
        }
        "numpat" => ctx.out.int(ctx.pubsub.pattern_count() as i64),
        "help" => reply_help(ctx, PUBSUB_HELP),
        // CHANNELS / SHARDCHANNELS with more than a pattern.
        _ => return Err(subcommand_syntax_error(args)),
    }
    Ok(())
}
