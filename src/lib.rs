//! Resplica: a Redis-compatible server whose reason to exist is master/replica replication.
//!
//! The path of one request: [`protocol`] parses socket bytes into arguments, [`commands`] looks
//! the command up in its table and runs its handler against the [`store`], and the reply is
//! written back through the protocol's reply writer. [`server`] owns the sockets, the clients
//! and the cron; [`config`] holds every setting in one table.

pub mod atomic_file;
pub mod commands;
pub mod config;
pub mod logging;
pub mod num;
pub mod protocol;
pub mod rdb;
pub mod replication;
pub mod server;
pub mod store;
