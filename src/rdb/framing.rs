//! The wrappers around an RDB sent over a replication link (rdb.md §1.8): `$<len>\r\n` + payload
//! (disk-based sync), or `$EOF:<40 bytes>\r\n` + payload + the same 40 bytes (diskless sync).

use rand::Rng;

/// Size of the diskless end-of-payload mark.
pub const EOF_MARK_SIZE: usize = 40;

/// A fresh random mark of 40 hex characters, as Redis's `getRandomHexChars` makes.
pub fn new_eof_mark() -> [u8; EOF_MARK_SIZE] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut rng = rand::thread_rng();
    let mut mark = [0u8; EOF_MARK_SIZE];
    for b in mark.iter_mut() {
        *b = HEX[rng.gen_range(0..16)];
    }
    mark
}

/// The line announcing a diskless payload: `$EOF:<mark>\r\n`. After the RDB, send `mark` again.
pub fn eof_preamble(mark: &[u8; EOF_MARK_SIZE]) -> Vec<u8> {
    let mut out = Vec::with_capacity(5 + EOF_MARK_SIZE + 2);
    out.extend_from_slice(b"$EOF:");
    out.extend_from_slice(mark);
    out.extend_from_slice(b"\r\n");
    out
}

/// The line announcing a payload of exactly `len` bytes: `$<len>\r\n` (no CRLF after the data).
pub fn len_preamble(len: u64) -> Vec<u8> {
    format!("${len}\r\n").into_bytes()
}

/// What a preamble line announces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Framing {
    /// Exactly this many bytes follow.
    Len(u64),
    /// The payload ends with this mark.
    Eof([u8; EOF_MARK_SIZE]),
}

/// Parses a preamble line (with or without its CRLF); `None` if it is neither form. Callers
/// skip the bare `\n` keep-alives a master sends before it.
pub fn parse_preamble(line: &[u8]) -> Option<Framing> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let rest = line.strip_prefix(b"$")?;
    if let Some(mark) = rest.strip_prefix(b"EOF:") {
        return <[u8; EOF_MARK_SIZE]>::try_from(mark).ok().map(Framing::Eof);
    }
    if rest.is_empty() || !rest.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(rest)
        .ok()?
        .parse()
        .ok()
        .map(Framing::Len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preambles_round_trip() {
        let mark = new_eof_mark();
        assert!(mark.iter().all(u8::is_ascii_hexdigit));
        let line = eof_preamble(&mark);
        assert_eq!(line.len(), 47);
        assert_eq!(parse_preamble(&line), Some(Framing::Eof(mark)));
        assert_eq!(len_preamble(172), b"$172\r\n");
        assert_eq!(parse_preamble(b"$172\r\n"), Some(Framing::Len(172)));
        assert_eq!(parse_preamble(b"$-1\r\n"), None);
        assert_eq!(parse_preamble(b"$EOF:short\r\n"), None);
        assert_eq!(parse_preamble(b"+OK\r\n"), None);
    }
}
