//! Number parsing and formatting with Redis's exact rules, shared by every command family.

/// Parses a signed decimal exactly as Redis's `string2ll`: no spaces, no `+`, no leading zeros.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || digits[0] == b'0' {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else if v > i64::MAX as u64 {
        None
    } else {
        Some(v as i64)
    }
}

/// The decimal digits of `v`, written at the end of `tmp` (protocol length prefixes, no
/// allocation or formatter on the hot path).
pub fn decimal(mut v: u64, tmp: &mut [u8; 20]) -> &[u8] {
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            return &tmp[i..];
        }
    }
}

/// Parses a float the way Redis's `string2ld`/`strtold` accepts it: no surrounding spaces, `inf`
/// and `-inf` allowed, NaN refused.
pub fn parse_f64(s: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(s).ok()?;
    if text.is_empty()
        || text.len() > 5000
        || text.starts_with(char::is_whitespace)
        || text.ends_with(char::is_whitespace)
    {
        return None;
    }
    let v: f64 = match text.to_ascii_lowercase().as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => f64::INFINITY,
        "-inf" | "-infinity" => f64::NEG_INFINITY,
        t if t.contains("nan") || t.contains("inf") => return None,
        t if t.starts_with("0x") || t.starts_with("-0x") => return None,
        t => t.parse().ok()?,
    };
    if v.is_nan() {
        None
    } else {
        Some(v)
    }
}

/// Formats like C's `%.17g`, which Redis 7.0 uses for double replies (`inf`, `-inf` for
/// infinities).
pub fn format_g17(v: f64) -> String {
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if v == 0.0 {
        return if v.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    // Integral values below 2^53 print the same in %.17g as integers (the common case for
    // sorted-set scores), without the general formatting round trip.
    if v.fract() == 0.0 && v.abs() < 9_007_199_254_740_992.0 {
        return (v as i64).to_string();
    }
    // %g's definition: the 17 significant digits and exponent X of %.16e decide; -4 <= X < 17
    // prints them in fixed notation. Both forms are built from that one conversion.
    let sci = format!("{:.16e}", v);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..17).contains(&exp) {
        let m = trim_fraction(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{m}e{sign}{:02}", exp.abs());
    }
    let digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    let mut out = String::with_capacity(24);
    if v < 0.0 {
        out.push('-');
    }
    let (int_part, fraction) = if exp >= 0 {
        digits.split_at(exp as usize + 1)
    } else {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
        (&digits[..0], &digits[..])
    };
    out.extend(int_part.iter().map(|&d| d as char));
    let fraction =
        &fraction[..fraction.len() - fraction.iter().rev().take_while(|&&d| d == b'0').count()];
    if !fraction.is_empty() {
        if exp >= 0 {
            out.push('.');
        }
        out.extend(fraction.iter().map(|&d| d as char));
    }
    out
}

fn trim_fraction(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// Formats the result of INCRBYFLOAT / HINCRBYFLOAT: plain decimal notation, shortest digits that
/// round-trip (Redis prints `%.17Lf` of a long double and trims zeros, which agrees for the
/// values users store).
pub fn format_human(v: f64) -> String {
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if v == 0.0 {
        return "0".into();
    }
    format!("{v}")
}

/// Quotes bytes the way Redis's `sdscatrepr` does (MONITOR, CLIENT LIST, logs): printable ASCII
/// as is, `\n`/`\r`/`\t`/`\a`/`\b` escaped, other bytes as `\xHH`, inside double quotes.
pub fn repr(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() + 2);
    s.push('"');
    for &b in bytes {
        match b {
            b'\\' => s.push_str("\\\\"),
            b'"' => s.push_str("\\\""),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            7 => s.push_str("\\a"),
            8 => s.push_str("\\b"),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s.push('"');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers() {
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_i64(b"01"), None);
        assert_eq!(parse_i64(b"+1"), None);
        assert_eq!(parse_i64(b"-0"), None);
        assert_eq!(parse_i64(b" 1"), None);
    }

    #[test]
    fn doubles() {
        assert_eq!(format_g17(0.1), "0.10000000000000001");
        assert_eq!(format_g17(1.5), "1.5");
        assert_eq!(format_g17(3.0), "3");
        assert_eq!(format_g17(-42.0), "-42");
        assert_eq!(format_g17(9_007_199_254_740_991.0), "9007199254740991");
        assert_eq!(format_g17(1e16), "10000000000000000");
        assert_eq!(format_g17(1e17), "1e+17");
        assert_eq!(format_g17(1e20), "1e+20");
        assert_eq!(format_g17(1.0e-5), "1.0000000000000001e-05");
        assert_eq!(format_g17(f64::NEG_INFINITY), "-inf");
        assert_eq!(format_g17(-0.000244140625), "-0.000244140625");
        assert_eq!(format_g17(0.000123), "0.00012300000000000001");
        assert_eq!(format_g17(123.25), "123.25");
        assert_eq!(format_g17(0.5), "0.5");
        // Against the definition of %.17g (a second, fixed-notation conversion at the same
        // digit position), over values of every exponent the fixed form covers.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mantissa = (x >> 11) as f64 / (1u64 << 53) as f64 + 0.5;
            let exp = (x % 24) as i32 - 6;
            let v = if x & 1 == 0 { 1.0 } else { -1.0 } * mantissa * 10f64.powi(exp);
            let sci = format!("{v:.16e}");
            let e: i32 = sci.split_once('e').unwrap().1.parse().unwrap();
            if (-4..17).contains(&e) && v.fract() != 0.0 {
                let fixed = format!("{:.*}", (16 - e) as usize, v);
                let fixed = fixed.trim_end_matches('0').trim_end_matches('.');
                assert_eq!(format_g17(v), fixed, "{v:e}");
            }
        }
        assert_eq!(format_human(10.6), "10.6");
        assert_eq!(format_human(5200.0), "5200");
        assert_eq!(parse_f64(b"5.0e3"), Some(5000.0));
        assert_eq!(parse_f64(b"nan"), None);
        assert_eq!(parse_f64(b" 1"), None);
        assert_eq!(parse_f64(b"-inf"), Some(f64::NEG_INFINITY));
    }
}
