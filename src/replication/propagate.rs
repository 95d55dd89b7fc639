//! What replicas must run for a command: usually the command itself, but Redis 7.0 rewrites
//! commands whose effect depends on the moment or on randomness into deterministic forms
//! (replication.md §5.4). The rewrite is computed from the key's state right after the command
//! ran, so handlers need not know about replication.

use crate::protocol::put_int_line;
use crate::store::{Keyspace, Value};
use bytes::{Bytes, BytesMut};

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

fn is(arg: &[u8], name: &str) -> bool {
    arg.eq_ignore_ascii_case(name.as_bytes())
}

/// The string form of a string value (for INCRBYFLOAT's `SET k <result> KEEPTTL`).
fn string_of(ks: &Keyspace, db: usize, key: &[u8]) -> Option<Bytes> {
    match ks.db(db).keys.get(key).map(|e| &e.value) {
        Some(Value::Str(s)) => Some(Bytes::copy_from_slice(s)),
        Some(Value::Int(n)) => Some(b(&n.to_string())),
        _ => None,
    }
}

/// The deterministic replacement for `args` (the command just executed in `db`), or `None` to
/// propagate it verbatim.
pub fn rewrite(name: &str, args: &[Bytes], ks: &Keyspace, db: usize) -> Option<Vec<Vec<Bytes>>> {
    let key = args.get(1)?;
    let expire_at = || ks.db(db).expires.get(key).copied();
    let exists = || ks.db(db).keys.get(key).is_some();
    let pexpireat = |at: i64| vec![b("PEXPIREAT"), key.clone(), b(&at.to_string())];
    match name {
        "set" => {
            let relative = args[3..]
                .iter()
                .any(|a| is(a, "ex") || is(a, "px") || is(a, "exat") || is(a, "pxat"));
            let get = args[3..].iter().any(|a| is(a, "get"));
            if relative {
                let at = expire_at()?;
                Some(vec![vec![
                    b("SET"),
                    key.clone(),
                    args[2].clone(),
                    b("PXAT"),
                    b(&at.to_string()),
                ]])
            } else if get {
                let mut v: Vec<Bytes> = args[..3].to_vec();
                v.extend(args[3..].iter().filter(|a| !is(a, "get")).cloned());
                Some(vec![v])
            } else {
                None
            }
        }
        "setex" | "psetex" => {
            let at = expire_at()?;
            Some(vec![vec![
                b("SET"),
                key.clone(),
                args[3].clone(),
                b("PXAT"),
                b(&at.to_string()),
            ]])
        }
        "expire" | "pexpire" | "expireat" => {
            if !exists() {
                return Some(vec![vec![b("DEL"), key.clone()]]);
            }
            let mut v = pexpireat(expire_at()?);
            v.extend(args[3..].iter().cloned());
            Some(vec![v])
        }
        "pexpireat" if !exists() => Some(vec![vec![b("DEL"), key.clone()]]),
        "getex" => {
            if args[2..].iter().any(|a| is(a, "persist")) {
                return Some(vec![vec![b("PERSIST"), key.clone()]]);
            }
            if !exists() {
                return Some(vec![vec![b("DEL"), key.clone()]]);
            }
            Some(vec![pexpireat(expire_at()?)])
        }
        "getset" => Some(vec![vec![b("SET"), key.clone(), args[2].clone()]]),
        "getdel" => Some(vec![vec![b("DEL"), key.clone()]]),
        "incrbyfloat" => {
            let v = string_of(ks, db, key)?;
            Some(vec![vec![b("SET"), key.clone(), v, b("KEEPTTL")]])
        }
        "hincrbyfloat" => {
            let field = args.get(2)?;
            let v = match ks.db(db).keys.get(key).map(|e| &e.value) {
                Some(Value::Hash(h)) => Bytes::copy_from_slice(h.get(field)?),
                _ => return None,
            };
            Some(vec![vec![b("HSET"), key.clone(), field.clone(), v]])
        }
        _ => None,
    }
}

/// At least the bytes [`encode`] writes for `args` (a length line is at most 1 + 20 + 2 bytes).
pub fn encoded_bound(args: &[Bytes]) -> usize {
    23 + args.iter().map(|a| a.len() + 25).sum::<usize>()
}

/// Encodes one command as a RESP multibulk (the only form a replication stream may carry). It
/// runs for every replicated write on the event loop: the stream reserves [`encoded_bound`]
/// once, before it, so the writes below never grow the buffer.
pub fn encode(args: &[Bytes], out: &mut BytesMut) {
    put_int_line(out, b'*', args.len() as i64);
    for a in args {
        put_int_line(out, b'$', a.len() as i64);
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::encode;
    use bytes::{Bytes, BytesMut};

    #[test]
    fn encode_writes_every_length_form_as_resp() {
        let lens = [0usize, 1, 9, 10, 99, 100, 12_345];
        let args: Vec<Bytes> = lens.iter().map(|&n| Bytes::from(vec![b'a'; n])).collect();
        let mut out = BytesMut::from(&b"prefix"[..]);
        encode(&args, &mut out);
        let mut expected = format!("prefix*{}\r\n", lens.len()).into_bytes();
        for &n in &lens {
            expected.extend_from_slice(format!("${n}\r\n{}\r\n", "a".repeat(n)).as_bytes());
        }
        assert_eq!(out[..], expected[..]);
        // Ten or more arguments: a two-digit count.
        let many = vec![Bytes::from_static(b"x"); 12];
        let mut out = BytesMut::new();
        encode(&many, &mut out);
        assert!(out.starts_with(b"*12\r\n$1\r\nx\r\n"));
        assert_eq!(out.len(), 5 + 12 * 7);
    }
}
