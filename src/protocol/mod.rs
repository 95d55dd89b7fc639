//! RESP2/RESP3 wire protocol: an incremental request parser and a reply writer.
//!
//! This module knows nothing about commands; it turns socket bytes into argument vectors and
//! reply values into socket bytes, enforcing Redis's protocol limits with Redis's error texts.

mod parser;
mod reply;

pub use parser::{split_args, ParseLimits, Parser, ProtocolError};
pub use reply::{format_double, put_int_line, Out, Resp};
