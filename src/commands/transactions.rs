//! Transactions (Redis's `multi.c`): MULTI queues commands, EXEC runs them atomically (the
//! keyspace lock is held for the whole EXEC), WATCH turns EXEC into a check-and-set.

use super::table::{cmd, flags::*, CommandSpec};
use super::{call, CmdError, CmdResult, Ctx};
use bytes::Bytes;

/// The transaction commands.
pub static COMMANDS: &[CommandSpec] = &[
    cmd(
        "multi",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        (0, 0, 0),
        "transactions",
        "1.2.0",
        "Mark the start of a transaction block",
        multi,
    ),
    cmd(
        "exec",
        1,
        NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG,
        (0, 0, 0),
        "transactions",
        "1.2.0",
        "Execute all commands issued after MULTI",
        exec,
    ),
    cmd(
        "discard",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        (0, 0, 0),
        "transactions",
        "2.0.0",
        "Discard all commands issued after MULTI",
        discard,
    ),
    cmd(
        "watch",
        -2,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        (1, -1, 1),
        "transactions",
        "2.2.0",
        "Watch the given keys to determine execution of the MULTI/EXEC block",
        watch,
    ),
    cmd(
        "unwatch",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        (0, 0, 0),
        "transactions",
        "2.2.0",
        "Forget about all watched keys",
        unwatch,
    ),
];

/// A transaction being queued.
#[derive(Debug, Default)]
pub struct MultiState {
    /// Commands to run at EXEC.
    pub queued: Vec<Vec<Bytes>>,
    /// A queued command was refused: EXEC answers EXECABORT.
    pub errored: bool,
}

/// Commands that run at once even inside MULTI.
pub fn runs_inside_multi(name: &str) -> bool {
    matches!(
        name,
        "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
    )
}

fn publish_multi_count(ctx: &mut Ctx) {
    let n = ctx
        .client
        .multi
        .as_ref()
        .map_or(-1, |m| m.queued.len() as i64);
    ctx.client.handle.update(|i| i.multi = n);
}

fn multi(ctx: &mut Ctx, _args: &[Bytes]) -> CmdResult {
    if ctx.client.multi.is_some() {
        return Err(CmdError::err("MULTI calls can not be nested"));
    }
    ctx.client.multi = Some(MultiState::default());
    publish_multi_count(ctx);
    ctx.out.ok();
    Ok(())
}

fn exec(ctx: &mut Ctx, _args: &[Bytes]) -> CmdResult {
    let Some(state) = ctx.client.multi.take() else {
        return Err(CmdError::err("EXEC without MULTI"));
    };
    publish_multi_count(ctx);
    let id = ctx.client.id();
    if state.errored {
        ctx.ks.unwatch_all(id);
        return Err(CmdError::Msg(
            "EXECABORT Transaction discarded because of previous errors.".into(),
        ));
    }
    let broken = ctx.ks.watch_broken(id) || ctx.ks.watched_key_expired(id);
    ctx.ks.unwatch_all(id);
    if broken {
        ctx.out.null_array();
        return Ok(());
    }
    ctx.out.array(state.queued.len());
    ctx.client.in_exec = true;
    for args in &state.queued {
        call(ctx, args);
    }
    ctx.client.in_exec = false;
    Ok(())
}

/// An EXEC refused before it runs (Redis's `execCommandAbort`): the transaction is discarded
/// and the reply says why, as `-EXECABORT Transaction discarded because of: <error>`.
pub fn abort_exec(ctx: &mut Ctx, reason: &str) {
    end_transaction(ctx);
    ctx.out.error(&format!(
        "EXECABORT Transaction discarded because of: {reason}"
    ));
}

fn discard(ctx: &mut Ctx, _args: &[Bytes]) -> CmdResult {
    if !end_transaction(ctx) {
        return Err(CmdError::err("DISCARD without MULTI"));
    }
    ctx.out.ok();
    Ok(())
}

/// Drops the client's transaction and its watches (DISCARD, an aborted EXEC); false when there
/// was no transaction, and then nothing changes.
fn end_transaction(ctx: &mut Ctx) -> bool {
    if ctx.client.multi.take().is_none() {
        return false;
    }
    publish_multi_count(ctx);
    let id = ctx.client.id();
    ctx.ks.unwatch_all(id);
    true
}

fn watch(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    if ctx.client.multi.is_some() {
        return Err(CmdError::err("WATCH inside MULTI is not allowed"));
    }
    let (id, db) = (ctx.client.id(), ctx.db());
    for key in &args[1..] {
        ctx.ks.watch(id, db, key);
    }
    ctx.out.ok();
    Ok(())
}

fn unwatch(ctx: &mut Ctx, _args: &[Bytes]) -> CmdResult {
    let id = ctx.client.id();
    ctx.ks.unwatch_all(id);
    ctx.out.ok();
    Ok(())
}
