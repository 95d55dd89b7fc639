//! Incremental request parser: multibulk (`*N\r\n$len\r\n...`) and inline commands.
//!
//! The parser keeps its position inside a partially received multibulk request, so a huge
//! request arriving in many reads is scanned once (no quadratic rescans). Arguments of a complete
//! request are zero-copy slices of the read buffer.

use crate::num::parse_i64;
use bytes::{Buf, Bytes, BytesMut};

/// Longest inline request or `*`/`$` header line Redis accepts (PROTO_INLINE_MAX_SIZE).
const MAX_INLINE: usize = 64 * 1024;

/// Limits taken from the configuration when a connection starts.
#[derive(Clone, Copy, Debug)]
pub struct ParseLimits {
    /// `proto-max-bulk-len`: the largest single argument.
    pub max_bulk_len: usize,
}

impl Default for ParseLimits {
    fn default() -> Self {
        ParseLimits {
            max_bulk_len: 512 * 1024 * 1024,
        }
    }
}

/// A request Redis would refuse; the text follows `-ERR Protocol error: ` and the connection closes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError(pub String);

impl std::fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Protocol error: {}", self.0)
    }
}

fn proto_err<T>(msg: impl Into<String>) -> Result<T, ProtocolError> {
    Err(ProtocolError(msg.into()))
}

/// State of a multibulk request whose bytes have not all arrived yet.
#[derive(Default, Debug)]
struct Pending {
    /// Number of arguments announced by the `*N` header.
    expected: usize,
    /// Where scanning resumes.
    pos: usize,
    /// Length of the bulk whose `$len` header was read but whose payload is incomplete.
    bulk_len: Option<usize>,
}

/// Parses requests out of a connection's read buffer; one per connection.
#[derive(Default, Debug)]
pub struct Parser {
    limits: ParseLimits,
    pending: Option<Pending>,
    /// Byte ranges of the pending request's arguments parsed so far, relative to the start of
    /// the buffer; kept across requests so parsing one allocates only its argument vector.
    ranges: Vec<(usize, usize)>,
}

/// Where the line starting at `from` ends, found the way Redis finds it: `strchr` for the first
/// `target` byte in a NUL-terminated buffer, so an earlier NUL byte hides the terminator (Redis
/// then keeps waiting until the "too big" limit is reached).
fn find_line_end(buf: &[u8], from: usize, target: u8) -> Option<usize> {
    let hay = buf.get(from..)?;
    let at = hay.iter().position(|&b| b == target || b == 0)?;
    (hay[at] == target).then_some(from + at)
}

impl Parser {
    /// A parser enforcing `limits`.
    pub fn new(limits: ParseLimits) -> Self {
        Parser {
            limits,
            pending: None,
            ranges: Vec::new(),
        }
    }

    /// Bytes of the request being received that are already known to belong to it; the caller
    /// compares this against `client-query-buffer-limit`.
    pub fn pending_bytes(&self) -> usize {
        self.pending.as_ref().map_or(0, |p| p.pos)
    }

    /// Takes the next complete request from `buf`. `Ok(None)` means more bytes are needed.
    /// An empty argument vector is never returned: empty lines and `*0` are skipped.
    pub fn next(&mut self, buf: &mut BytesMut) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        let mut args = Vec::new();
        Ok(self.next_into(buf, &mut args)?.then_some(args))
    }

    /// The buffer length the pending request's current argument needs before it can complete
    /// (0 when no argument is under way): a caller that copies the buffer before parsing it can
    /// wait for that much instead of copying a growing prefix of a large value at every read.
    pub fn needs(&self) -> usize {
        match &self.pending {
            Some(Pending {
                bulk_len: Some(len),
                pos,
                ..
            }) => pos + len + 2,
            _ => 0,
        }
    }

    /// [`Parser::next`] into a caller's (empty) vector, so a connection can reuse one vector per
    /// pipelined request instead of allocating it; `Ok(false)` means more bytes are needed.
    pub fn next_into(
        &mut self,
        buf: &mut BytesMut,
        out: &mut Vec<Bytes>,
    ) -> Result<bool, ProtocolError> {
        loop {
            if self.pending.is_none() {
                if buf.is_empty() {
                    return Ok(false);
                }
                if buf[0] != b'*' {
                    match self.inline(buf)? {
                        Some(args) if args.is_empty() => continue,
                        Some(args) => {
                            out.extend(args);
                            return Ok(true);
                        }
                        None => return Ok(false),
                    }
                }
                // Redis ends the count at the first '\r' and skips one more byte, whatever it is.
                let Some(end) = find_line_end(buf, 0, b'\r') else {
                    if buf.len() > MAX_INLINE {
                        return proto_err("too big mbulk count string");
                    }
                    return Ok(false);
                };
                if end + 1 >= buf.len() {
                    return Ok(false);
                }
                let n = match parse_i64(&buf[1..end]) {
                    Some(n) if n <= i32::MAX as i64 => n,
                    _ => return proto_err("invalid multibulk length"),
                };
                if n <= 0 {
                    let _ = buf.split_to(end + 2);
                    continue;
                }
                self.ranges.clear();
                if self.ranges.capacity() > 1024 {
                    self.ranges.shrink_to(1024);
                }
                self.ranges.reserve((n as usize).min(1024));
                self.pending = Some(Pending {
                    expected: n as usize,
                    pos: end + 2,
                    bulk_len: None,
                });
            }
            return self.multibulk(buf, out);
        }
    }

    fn multibulk(
        &mut self,
        buf: &mut BytesMut,
        out: &mut Vec<Bytes>,
    ) -> Result<bool, ProtocolError> {
        let max_bulk = self.limits.max_bulk_len;
        let Some(p) = self.pending.as_mut() else {
            return Ok(false);
        };
        while self.ranges.len() < p.expected {
            let len = match p.bulk_len {
                Some(len) => len,
                None => {
                    // As in Redis, the `$` is checked only once the whole header line is here.
                    let Some(end) = find_line_end(buf, p.pos, b'\r') else {
                        if buf.len().saturating_sub(p.pos) > MAX_INLINE {
                            return proto_err("too big bulk count string");
                        }
                        return Ok(false);
                    };
                    if end + 1 >= buf.len() {
                        return Ok(false);
                    }
                    if buf[p.pos] != b'$' {
                        let got = buf[p.pos] as char;
                        return proto_err(format!("expected '$', got '{got}'"));
                    }
                    let len = match parse_i64(&buf[p.pos + 1..end]) {
                        Some(l) if l >= 0 && (l as u64) <= max_bulk as u64 => l as usize,
                        _ => return proto_err("invalid bulk length"),
                    };
                    p.pos = end + 2;
                    p.bulk_len = Some(len);
                    len
                }
            };
            if buf.len() < p.pos + len + 2 {
                buf.reserve(p.pos + len + 2 - buf.len());
                return Ok(false);
            }
            self.ranges.push((p.pos, p.pos + len));
            p.pos += len + 2;
            p.bulk_len = None;
        }
        let Some(p) = self.pending.take() else {
            return Ok(false);
        };
        // Each argument is split straight off the buffer (one reference count each), with no
        // frame for the whole request to count and drop as well.
        out.reserve(self.ranges.len());
        let mut taken = 0;
        for &(s, e) in &self.ranges {
            buf.advance(s - taken);
            out.push(buf.split_to(e - s).freeze());
            taken = e;
        }
        buf.advance(p.pos - taken);
        Ok(true)
    }

    fn inline(&mut self, buf: &mut BytesMut) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        let Some(nl) = find_line_end(buf, 0, b'\n') else {
            if buf.len() > MAX_INLINE {
                return proto_err("too big inline request");
            }
            return Ok(None);
        };
        let line = buf.split_to(nl + 1);
        let mut text = &line[..nl];
        if text.last() == Some(&b'\r') {
            text = &text[..text.len() - 1];
        }
        match split_args(text) {
            Some(args) => Ok(Some(args.into_iter().map(Bytes::from).collect())),
            None => proto_err("unbalanced quotes in request"),
        }
    }
}

fn hex_val(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// C's `isspace` in the "C" locale (includes vertical tab, unlike `u8::is_ascii_whitespace`).
fn c_isspace(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Splits a line the way Redis's `sdssplitargs` does: whitespace separated, with "double quotes"
/// (backslash escapes, `\xHH`) and 'single quotes'. `None` on unbalanced quotes, or when a
/// closing quote is followed by something other than a space. Like the C original, which works on
/// NUL-terminated strings, the line ends at its first NUL byte.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let line = match line.iter().position(|&b| b == 0) {
        Some(nul) => &line[..nul],
        None => line,
    };
    let at = |i: usize| line.get(i).copied().unwrap_or(0);
    let mut args = Vec::new();
    let mut i = 0;
    loop {
        while i < line.len() && c_isspace(line[i]) {
            i += 1;
        }
        if i >= line.len() {
            return Some(args);
        }
        let mut cur = Vec::new();
        let (mut in_dq, mut in_sq) = (false, false);
        loop {
            let c = at(i);
            if in_dq {
                if c == b'\\' && at(i + 1) == b'x' {
                    if let (Some(h), Some(l)) = (hex_val(at(i + 2)), hex_val(at(i + 3))) {
                        cur.push(h * 16 + l);
                        i += 4;
                        continue;
                    }
                }
                if c == b'\\' && at(i + 1) != 0 {
                    i += 1;
                    cur.push(match line[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        other => other,
                    });
                } else if c == b'"' {
                    if at(i + 1) != 0 && !c_isspace(at(i + 1)) {
                        return None;
                    }
                    i += 1;
                    break;
                } else if c == 0 {
                    return None;
                } else {
                    cur.push(c);
                }
            } else if in_sq {
                if c == b'\\' && at(i + 1) == b'\'' {
                    i += 1;
                    cur.push(b'\'');
                } else if c == b'\'' {
                    if at(i + 1) != 0 && !c_isspace(at(i + 1)) {
                        return None;
                    }
                    i += 1;
                    break;
                } else if c == 0 {
                    return None;
                } else {
                    cur.push(c);
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => break,
                    b'"' => in_dq = true,
                    b'\'' => in_sq = true,
                    c => cur.push(c),
                }
            }
            i += 1;
        }
        args.push(cur);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(input: &[u8]) -> Result<Vec<Vec<Bytes>>, ProtocolError> {
        let mut p = Parser::default();
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        while let Some(cmd) = p.next(&mut buf)? {
            out.push(cmd);
        }
        Ok(out)
    }

    #[test]
    fn multibulk_and_inline() {
        let cmds =
            parse_all(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nSET a \"b c\"\r\n\r\n*0\r\nPING\n").unwrap();
        assert_eq!(cmds.len(), 3);
        assert_eq!(cmds[0], vec![Bytes::from("GET"), Bytes::from("k")]);
        assert_eq!(cmds[1][2], Bytes::from("b c"));
        assert_eq!(cmds[2], vec![Bytes::from("PING")]);
    }

    #[test]
    fn byte_at_a_time() {
        let input = b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nva\r\nl\r\n";
        let mut p = Parser::default();
        let mut buf = BytesMut::new();
        let mut got = None;
        for &b in input.iter() {
            buf.extend_from_slice(&[b]);
            if let Some(c) = p.next(&mut buf).unwrap() {
                got = Some(c);
            }
        }
        assert_eq!(got.unwrap()[2], Bytes::from("va\r\nl"));
        assert!(buf.is_empty());
    }

    #[test]
    fn needs_tells_how_long_a_large_argument_still_is() {
        let mut p = Parser::default();
        let mut buf = BytesMut::from(&b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1000\r\nxx"[..]);
        assert_eq!(p.needs(), 0, "nothing under way");
        assert_eq!(p.next(&mut buf).unwrap(), None);
        let header = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1000\r\n".len();
        assert_eq!(p.needs(), header + 1000 + 2);
        buf.extend_from_slice(&[b'x'; 998]);
        assert_eq!(p.next(&mut buf).unwrap(), None, "the CRLF is missing");
        buf.extend_from_slice(b"\r\n");
        assert_eq!(buf.len(), p.needs());
        assert_eq!(p.next(&mut buf).unwrap().map(|c| c[2].len()), Some(1000));
        assert_eq!(p.needs(), 0);
    }

    #[test]
    fn errors_match_redis() {
        let e = |i: &[u8]| parse_all(i).unwrap_err().0;
        assert_eq!(e(b"*x\r\n"), "invalid multibulk length");
        assert_eq!(e(b"*2147483648\r\n"), "invalid multibulk length");
        assert_eq!(e(b"*1\r\n$-1\r\n"), "invalid bulk length");
        assert_eq!(e(b"*1\r\n+foo\r\n"), "expected '$', got '+'");
        assert_eq!(e(b"SET \"a\r\n"), "unbalanced quotes in request");
        assert_eq!(e(&vec![b'a'; 70000]), "too big inline request");
        let mut big = b"*".to_vec();
        big.extend(vec![b'1'; 70000]);
        assert_eq!(e(&big), "too big mbulk count string");
        let mut p = Parser::new(ParseLimits { max_bulk_len: 10 });
        let mut buf = BytesMut::from(&b"*1\r\n$11\r\n"[..]);
        assert_eq!(p.next(&mut buf).unwrap_err().0, "invalid bulk length");
    }

    #[test]
    fn framing_quirks_match_redis() {
        // The count/length line ends at the first '\r'; the byte after it is skipped unchecked.
        let cmds = parse_all(b"*1\rX$4\r\nPING\r\n").unwrap();
        assert_eq!(cmds, vec![vec![Bytes::from("PING")]]);
        let cmds = parse_all(b"*1\r\n$4\rXPING\r\n").unwrap();
        assert_eq!(cmds, vec![vec![Bytes::from("PING")]]);
        // The '$' is checked only once the header line is complete.
        assert_eq!(parse_all(b"*1\r\nPING").unwrap().len(), 0);
        assert_eq!(parse_all(b"*1\r\nP\r").unwrap().len(), 0);
        assert_eq!(
            parse_all(b"*1\r\nP\r\n").unwrap_err().0,
            "expected '$', got 'P'"
        );
        // A NUL before the terminator hides it, as strchr does: Redis waits for more.
        assert_eq!(parse_all(b"*1\x00\r\n$4\r\nPING\r\n").unwrap().len(), 0);
        assert_eq!(parse_all(b"PING\x00X\r\n").unwrap().len(), 0);
        let mut big = b"PING\x00\n".to_vec();
        big.extend(vec![b'a'; 70000]);
        assert_eq!(parse_all(&big).unwrap_err().0, "too big inline request");
    }

    #[test]
    fn split_args_nul_and_c_whitespace() {
        // Used to loop forever pushing empty arguments.
        assert_eq!(split_args(b"a\x00b").unwrap(), vec![b"a".to_vec()]);
        assert_eq!(split_args(b"\x00").unwrap().len(), 0);
        assert!(split_args(b"\"ab\x00c\"").is_none());
        // Vertical tab is skipped between arguments but, as in C, ends no unquoted argument.
        assert_eq!(
            split_args(b"\x0bping\x0c").unwrap(),
            vec![b"ping\x0c".to_vec()]
        );
        assert_eq!(
            split_args(b"\"a\"\x0b'b'").unwrap(),
            vec![b"a".to_vec(), b"b".to_vec()]
        );
        assert!(split_args(b"\"a\\").is_none());
    }

    #[test]
    fn split_args_quotes() {
        assert_eq!(
            split_args(b"set k \"a\\x41\\n\" 'it\\'s'").unwrap(),
            vec![
                b"set".to_vec(),
                b"k".to_vec(),
                b"aA\n".to_vec(),
                b"it's".to_vec()
            ]
        );
        assert!(split_args(b"\"abc\"def").is_none());
        assert_eq!(split_args(b"  ").unwrap().len(), 0);
    }
}
