//! The reply writer: commands append RESP2 or RESP3 replies straight into the connection's output
//! buffer, the way Redis's `addReply*` family does, so a reply is never built as a tree first.

use bytes::{BufMut, BytesMut};

pub use crate::num::format_g17 as format_double;

/// Protocol version negotiated with HELLO; decides how nulls, maps, sets, doubles and booleans look.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Resp {
    #[default]
    V2,
    V3,
}

/// A client's pending output plus the protocol it speaks.
#[derive(Debug, Default)]
pub struct Out {
    /// Encoded replies waiting to be written to the socket.
    pub buf: BytesMut,
    /// The protocol the client negotiated.
    pub resp: Resp,
}

/// `<prefix><v>\r\n`: the header line of RESP integers, bulk strings and aggregates, written
/// for every reply and every replicated write, so the one- and two-digit values most lengths
/// are skip the digit loop.
pub fn put_int_line<B: BufMut>(buf: &mut B, prefix: u8, v: i64) {
    match v {
        0..=9 => buf.put_slice(&[prefix, b'0' + v as u8, b'\r', b'\n']),
        10..=99 => {
            let (tens, ones) = (b'0' + (v / 10) as u8, b'0' + (v % 10) as u8);
            buf.put_slice(&[prefix, tens, ones, b'\r', b'\n']);
        }
        _ => {
            let mut tmp = [0u8; 20];
            let digits = crate::num::decimal(v.unsigned_abs(), &mut tmp);
            buf.put_u8(prefix);
            if v < 0 {
                buf.put_u8(b'-');
            }
            buf.put_slice(digits);
            buf.put_slice(b"\r\n");
        }
    }
}

impl Out {
    /// An empty output speaking `resp`, sized for a connection's batch of replies.
    pub fn new(resp: Resp) -> Self {
        Self::with_capacity(resp, 16 * 1024)
    }

    /// An output for one message of about `capacity` bytes that will be frozen and queued (a
    /// pub/sub message, an unblocked client's reply): the frozen bytes keep the whole
    /// allocation alive while queued, so it must not be a batch-sized buffer.
    pub fn with_capacity(resp: Resp, capacity: usize) -> Self {
        Out {
            buf: BytesMut::with_capacity(capacity),
            resp,
        }
    }

    /// `+OK`.
    pub fn ok(&mut self) {
        self.buf.put_slice(b"+OK\r\n");
    }

    /// A status reply; `s` must not contain CR or LF.
    pub fn simple(&mut self, s: &str) {
        self.buf.reserve(s.len() + 3);
        self.buf.put_u8(b'+');
        self.buf.put_slice(s.as_bytes());
        self.buf.put_slice(b"\r\n");
    }

    /// An error reply; `msg` starts with its code (`ERR`, `WRONGTYPE`, ...). Newlines become spaces
    /// as in Redis, so an error can never break the protocol framing.
    pub fn error(&mut self, msg: &str) {
        self.buf.reserve(msg.len() + 3);
        self.buf.put_u8(b'-');
        for &b in msg.as_bytes() {
            self.buf
                .put_u8(if b == b'\r' || b == b'\n' { b' ' } else { b });
        }
        self.buf.put_slice(b"\r\n");
    }

    /// An integer reply.
    pub fn int(&mut self, v: i64) {
        put_int_line(&mut self.buf, b':', v);
    }

    /// A bulk string reply.
    pub fn bulk(&mut self, data: &[u8]) {
        put_int_line(&mut self.buf, b'$', data.len() as i64);
        self.buf.reserve(data.len() + 2);
        self.buf.put_slice(data);
        self.buf.put_slice(b"\r\n");
    }

    /// A bulk string holding the decimal form of `v`.
    pub fn bulk_int(&mut self, v: i64) {
        let mut tmp = BytesMut::with_capacity(24);
        put_int_line(&mut tmp, b' ', v);
        self.bulk(&tmp[1..tmp.len() - 2]);
    }

    /// The null bulk string (`$-1` in RESP2, `_` in RESP3).
    pub fn null(&mut self) {
        match self.resp {
            Resp::V2 => self.buf.put_slice(b"$-1\r\n"),
            Resp::V3 => self.buf.put_slice(b"_\r\n"),
        }
    }

    /// The null array (`*-1` in RESP2, `_` in RESP3).
    pub fn null_array(&mut self) {
        match self.resp {
            Resp::V2 => self.buf.put_slice(b"*-1\r\n"),
            Resp::V3 => self.buf.put_slice(b"_\r\n"),
        }
    }

    /// Header of an array of `n` replies that follow.
    pub fn array(&mut self, n: usize) {
        put_int_line(&mut self.buf, b'*', n as i64);
    }

    /// Header of a map of `n` key/value pairs (a flat array of 2n in RESP2).
    pub fn map(&mut self, n: usize) {
        match self.resp {
            Resp::V2 => put_int_line(&mut self.buf, b'*', 2 * n as i64),
            Resp::V3 => put_int_line(&mut self.buf, b'%', n as i64),
        }
    }

    /// Header of a set of `n` replies (an array in RESP2).
    pub fn set(&mut self, n: usize) {
        match self.resp {
            Resp::V2 => put_int_line(&mut self.buf, b'*', n as i64),
            Resp::V3 => put_int_line(&mut self.buf, b'~', n as i64),
        }
    }

    /// Header of an out-of-band push of `n` items (an array in RESP2).
    pub fn push(&mut self, n: usize) {
        match self.resp {
            Resp::V2 => put_int_line(&mut self.buf, b'*', n as i64),
            Resp::V3 => put_int_line(&mut self.buf, b'>', n as i64),
        }
    }

    /// A double: a `%.17g` bulk string in RESP2, a `,` double in RESP3.
    pub fn double(&mut self, v: f64) {
        let text = format_double(v);
        match self.resp {
            Resp::V2 => self.bulk(text.as_bytes()),
            Resp::V3 => {
                self.buf.put_u8(b',');
                self.buf.put_slice(text.as_bytes());
                self.buf.put_slice(b"\r\n");
            }
        }
    }

    /// A boolean: `:1`/`:0` in RESP2, `#t`/`#f` in RESP3.
    pub fn boolean(&mut self, v: bool) {
        match (self.resp, v) {
            (Resp::V2, v) => self.int(v as i64),
            (Resp::V3, true) => self.buf.put_slice(b"#t\r\n"),
            (Resp::V3, false) => self.buf.put_slice(b"#f\r\n"),
        }
    }

    /// Free text (INFO, CLIENT LIST): a bulk string in RESP2, a `txt` verbatim string in RESP3.
    pub fn verbatim(&mut self, text: &str) {
        match self.resp {
            Resp::V2 => self.bulk(text.as_bytes()),
            Resp::V3 => {
                put_int_line(&mut self.buf, b'=', text.len() as i64 + 4);
                self.buf.put_slice(b"txt:");
                self.buf.put_slice(text.as_bytes());
                self.buf.put_slice(b"\r\n");
            }
        }
    }

    /// Raw bytes already in RESP form.
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.put_slice(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_lines_of_every_width_and_sign() {
        for v in [
            0,
            7,
            9,
            10,
            42,
            99,
            100,
            12_345,
            -1,
            -99,
            i64::MAX,
            i64::MIN,
        ] {
            let mut buf = BytesMut::new();
            put_int_line(&mut buf, b':', v);
            assert_eq!(&buf[..], format!(":{v}\r\n").as_bytes());
        }
    }

    #[test]
    fn encodes_both_protocols() {
        let mut o = Out::new(Resp::V2);
        o.int(-12);
        o.bulk(b"hi");
        o.null();
        o.map(1);
        o.double(1.5);
        o.error("ERR bad\r\nthing");
        assert_eq!(
            &o.buf[..],
            b":-12\r\n$2\r\nhi\r\n$-1\r\n*2\r\n$3\r\n1.5\r\n-ERR bad  thing\r\n"
        );
        let mut o = Out::new(Resp::V3);
        o.null();
        o.map(1);
        o.double(1.5);
        o.boolean(true);
        o.bulk_int(i64::MIN);
        assert_eq!(
            &o.buf[..],
            b"_\r\n%1\r\n,1.5\r\n#t\r\n$20\r\n-9223372036854775808\r\n"
        );
    }
}
