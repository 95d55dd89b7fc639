//! Glob matching with Redis's `stringmatchlen` rules (KEYS, SCAN MATCH, CONFIG GET, PSUBSCRIBE):
//! `*`, `?`, `[abc]`, `[^a-z]`, and backslash escapes, optionally case-insensitive.

/// True when `s` matches `pattern`.
pub fn glob_match(pattern: &[u8], s: &[u8], nocase: bool) -> bool {
    // Bound the backtracking the way Redis 7.0 does not: a pattern like `a*a*a*...b` would otherwise
    // cost exponential time on a long key. The iterative star-backtracking below is O(p * s).
    let eq = |a: u8, b: u8| {
        if nocase {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    // Redis's matcher never enters its loop for an empty string: only an empty pattern matches
    // it (KEYS * and SCAN MATCH * special-case "everything" before matching).
    if s.is_empty() {
        return pattern.is_empty();
    }
    let (mut p, mut i) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    loop {
        if p < pattern.len() {
            if pattern[p] == b'*' {
                while p < pattern.len() && pattern[p] == b'*' {
                    p += 1;
                }
                if p == pattern.len() {
                    return true;
                }
                star = Some((p, i));
                continue;
            }
            // Where the pattern continues if the byte at `i` matches here.
            let next = match pattern[p] {
                _ if i >= s.len() => None,
                b'?' => Some(p + 1),
                b'[' => {
                    class_match(pattern, p, s[i], nocase).and_then(|(m, next)| m.then_some(next))
                }
                b'\\' if p + 1 < pattern.len() => eq(pattern[p + 1], s[i]).then_some(p + 2),
                c => eq(c, s[i]).then_some(p + 1),
            };
            if let Some(np) = next {
                p = np;
                i += 1;
                continue;
            }
        } else if i == s.len() {
            return true;
        }
        // Mismatch: let the last star swallow one more byte, or fail.
        match star {
            Some((sp, si)) if si < s.len() => {
                star = Some((sp, si + 1));
                p = sp;
                i = si + 1;
            }
            _ => return false,
        }
    }
}

/// Matches `c` against the class starting at `pattern[start] == '['`; returns whether it matched
/// and the pattern index after the class. An unterminated class runs to the end, as in Redis.
/// Case folding follows Redis exactly: escaped bytes compare exactly, range ends are ordered
/// before they are lowered.
fn class_match(pattern: &[u8], start: usize, c: u8, nocase: bool) -> Option<(bool, usize)> {
    let lower = |b: u8| if nocase { b.to_ascii_lowercase() } else { b };
    let mut p = start + 1;
    let negate = pattern.get(p) == Some(&b'^');
    if negate {
        p += 1;
    }
    let mut matched = false;
    loop {
        if p >= pattern.len() {
            break;
        }
        match pattern[p] {
            b'\\' if p + 1 < pattern.len() => {
                p += 1;
                if pattern[p] == c {
                    matched = true;
                }
            }
            b']' => {
                p += 1;
                return Some((matched != negate, p));
            }
            b if p + 2 < pattern.len() && pattern[p + 1] == b'-' => {
                let (mut a, mut z) = (b, pattern[p + 2]);
                if a > z {
                    std::mem::swap(&mut a, &mut z);
                }
                let (a, z, c) = (lower(a), lower(z), lower(c));
                if c >= a && c <= z {
                    matched = true;
                }
                p += 2;
            }
            b => {
                if lower(b) == lower(c) {
                    matched = true;
                }
            }
        }
        p += 1;
    }
    Some((matched != negate, p))
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    fn m(p: &str, s: &str) -> bool {
        glob_match(p.as_bytes(), s.as_bytes(), false)
    }

    #[test]
    fn redis_pattern_rules() {
        assert!(!m("*", ""));
        assert!(m("", ""));
        assert!(m("h?llo", "hello"));
        assert!(m("h*llo", "heeeello"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(m("h[b-a]llo", "hallo"));
        assert!(m("h\\*llo", "h*llo"));
        assert!(!m("h\\*llo", "hello"));
        assert!(!m("a\\b", "a\\c"));
        assert!(m("a\\", "a\\"));
        assert!(m("a*b*c", "axxbyyc"));
        assert!(!m("a*b*c", "axxbyy"));
        assert!(m("*.conf", "redis.conf"));
        assert!(m("[\\]]", "]"));
        assert!(glob_match(b"MAX*", b"maxclients", true));
        assert!(!m(&"a*".repeat(30), &"a".repeat(25)));
        assert!(m(
            &format!("{}b", "a*".repeat(30)),
            &format!("{}b", "a".repeat(40))
        ));
    }
}
