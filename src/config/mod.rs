//! Configuration: every directive lives in one table ([`table::DIRECTIVES`]); values are held in
//! the canonical text CONFIG GET prints and parsed by typed getters where they are used.

mod file;
pub mod table;

pub use file::{parse_startup, StartupError};
use table::{Directive, Kind};

use crate::store::glob::glob_match;
use std::collections::HashMap;
use std::path::PathBuf;

/// The running configuration.
#[derive(Debug, Clone)]
pub struct Config {
    values: HashMap<&'static str, String>,
    /// `rename-command old new` pairs (new may be empty: the command is disabled).
    pub rename_commands: Vec<(String, String)>,
    /// `replicaof host port` from the file or command line.
    pub replicaof: Option<(String, u16)>,
    /// The file the server was started with, for CONFIG REWRITE.
    pub file: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            values: table::DIRECTIVES
                .iter()
                .map(|d| (d.name, d.default.to_string()))
                .collect(),
            rename_commands: Vec::new(),
            replicaof: None,
            file: None,
        }
    }
}

/// Parses a memory amount the way Redis's `memtoull` does: digits with an optional
/// b/k/kb/m/mb/g/gb suffix (k = 1000, kb = 1024), case-insensitive.
pub fn parse_memory(s: &str) -> Option<i64> {
    let lower = s.to_ascii_lowercase();
    let split = lower
        .find(|c: char| !c.is_ascii_digit() && c != '-')
        .unwrap_or(lower.len());
    let (num, unit) = lower.split_at(split);
    let mul: i64 = match unit {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    num.parse::<i64>().ok()?.checked_mul(mul)
}

fn parse_bool(s: &str) -> Result<&'static str, String> {
    match s.to_ascii_lowercase().as_str() {
        "yes" => Ok("yes"),
        "no" => Ok("no"),
        _ => Err("argument must be 'yes' or 'no'".into()),
    }
}

fn parse_int_in(s: &str, min: i64, max: i64, memory: bool) -> Result<i64, String> {
    let v = if memory {
        parse_memory(s).ok_or("argument must be a memory value")?
    } else {
        s.parse::<i64>()
            .map_err(|_| "argument couldn't be parsed into an integer")?
    };
    if v < min || v > max {
        return Err(format!(
            "argument must be between {min} and {max} inclusive"
        ));
    }
    Ok(v)
}

/// The output-buffer classes in the order Redis prints them.
const OBUF_CLASSES: [&str; 3] = ["normal", "slave", "pubsub"];

fn merge_output_buffer_limits(current: &str, args: &[&str]) -> Result<String, String> {
    if args.is_empty() || !args.len().is_multiple_of(4) {
        return Err("Wrong number of arguments in buffer limit configuration.".into());
    }
    let mut classes: Vec<Vec<String>> = current
        .split_whitespace()
        .collect::<Vec<_>>()
        .chunks(4)
        .map(|c| c.iter().map(|s| s.to_string()).collect())
        .collect();
    for chunk in args.chunks(4) {
        let class = match chunk[0].to_ascii_lowercase().as_str() {
            "normal" => "normal",
            "slave" | "replica" => "slave",
            "pubsub" => "pubsub",
            _ => {
                return Err("Invalid client class specified in buffer limit configuration.".into())
            }
        };
        let hard = parse_memory(chunk[1]);
        let soft = parse_memory(chunk[2]);
        let secs = chunk[3].parse::<i64>().ok();
        let (Some(hard), Some(soft), Some(secs)) = (hard, soft, secs) else {
            return Err(
                "Error in hard, soft or soft_seconds setting in buffer limit configuration.".into(),
            );
        };
        if hard < 0 || soft < 0 || secs < 0 {
            return Err(
                "Error in hard, soft or soft_seconds setting in buffer limit configuration.".into(),
            );
        }
        let idx = OBUF_CLASSES.iter().position(|c| *c == class).unwrap_or(0);
        if let Some(slot) = classes.get_mut(idx) {
            *slot = vec![
                class.to_string(),
                hard.to_string(),
                soft.to_string(),
                secs.to_string(),
            ];
        }
    }
    Ok(classes
        .into_iter()
        .map(|c| c.join(" "))
        .collect::<Vec<_>>()
        .join(" "))
}

/// Keyspace notification classes, in the order Redis prints them.
const NOTIFY_CLASSES: &str = "g$lshzxetd";

fn canonical_notify_flags(s: &str) -> Result<String, String> {
    let mut set = std::collections::HashSet::new();
    for c in s.chars() {
        match c {
            'A' => set.extend(NOTIFY_CLASSES.chars()),
            'g' | '$' | 'l' | 's' | 'h' | 'z' | 'x' | 'e' | 't' | 'd' | 'K' | 'E' | 'm' | 'n' => {
                set.insert(c);
            }
            _ => return Err("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".into()),
        }
    }
    let mut out = String::new();
    if NOTIFY_CLASSES.chars().all(|c| set.contains(&c)) {
        out.push('A');
    } else {
        out.extend(NOTIFY_CLASSES.chars().filter(|c| set.contains(c)));
    }
    if set.contains(&'n') && !out.contains('n') {
        out.push('n');
    }
    out.extend("KEm".chars().filter(|c| set.contains(c)));
    Ok(out)
}

/// Validates `args` for directive `dir` and returns the canonical stored text. `current` is the
/// value being replaced (output buffer limits merge per class).
fn canonical_value(dir: &Directive, args: &[&str], current: &str) -> Result<String, String> {
    let single = || -> Result<&str, String> {
        match args {
            [one] => Ok(one),
            _ => Err("wrong number of arguments".into()),
        }
    };
    match dir.kind {
        Kind::Bool => Ok(parse_bool(single()?)?.to_string()),
        Kind::Int { min, max } => Ok(parse_int_in(single()?, min, max, false)?.to_string()),
        Kind::Memory { min, max } => Ok(parse_int_in(single()?, min, max, true)?.to_string()),
        Kind::Enum(words) => {
            let v = single()?.to_ascii_lowercase();
            match words.iter().find(|w| **w == v) {
                Some(w) => Ok(w.to_string()),
                None => Err(format!(
                    "argument(s) must be one of the following: {}",
                    words.join(", ")
                )),
            }
        }
        Kind::Str => Ok(args.join(" ")),
        Kind::Save => {
            let parts: Vec<&str> = args.iter().flat_map(|a| a.split_whitespace()).collect();
            if !parts.len().is_multiple_of(2) {
                return Err("Invalid save parameters".into());
            }
            for p in &parts {
                if p.parse::<i64>().map_or(true, |v| v < 0) {
                    return Err("Invalid save parameters".into());
                }
            }
            Ok(parts.join(" "))
        }
        Kind::Bind => {
            let parts: Vec<&str> = args.iter().flat_map(|a| a.split_whitespace()).collect();
            if parts.len() > 16 {
                return Err("Too many bind addresses specified.".into());
            }
            Ok(parts.join(" "))
        }
        Kind::OutputBufferLimit => {
            let parts: Vec<&str> = args.iter().flat_map(|a| a.split_whitespace()).collect();
            merge_output_buffer_limits(current, &parts)
        }
        Kind::NotifyFlags => canonical_notify_flags(single()?),
    }
}

/// Why a CONFIG SET was refused (the reason part of Redis's message).
#[derive(Debug)]
pub struct SetError {
    /// The parameter the error is about.
    pub param: String,
    /// Redis's reason text.
    pub reason: String,
}

impl Config {
    /// The canonical text of a directive; empty for names not in the table.
    pub fn get(&self, name: &str) -> &str {
        self.values.get(name).map(String::as_str).unwrap_or("")
    }

    /// A directive parsed as an integer (ints, memory values, yes/no as 1/0).
    pub fn int(&self, name: &str) -> i64 {
        let v = self.get(name);
        match v {
            "yes" => 1,
            "no" => 0,
            _ => v.parse().unwrap_or(0),
        }
    }

    /// `repl-backlog-size` in bytes: the size a new backlog gets and a resize keeps, read by
    /// the master, the replica and CONFIG SET alike.
    pub fn backlog_size(&self) -> usize {
        self.int("repl-backlog-size").max(1) as usize
    }

    /// A yes/no directive.
    pub fn bool(&self, name: &str) -> bool {
        self.get(name) == "yes"
    }

    /// Applies one directive line from a file or the command line (`args[0]` is the name).
    pub fn apply_line(&mut self, args: &[&str], first_save_line: &mut bool) -> Result<(), String> {
        let Some((name, rest)) = args.split_first() else {
            return Ok(());
        };
        let lname = name.to_ascii_lowercase();
        match lname.as_str() {
            "rename-command" => {
                let [old, new] = rest else {
                    return Err("Bad directive or wrong number of arguments".into());
                };
                self.rename_commands
                    .push((old.to_string(), new.to_string()));
                return Ok(());
            }
            "replicaof" | "slaveof" => {
                let [host, port] = rest else {
                    return Err("Bad directive or wrong number of arguments".into());
                };
                let port = port
                    .parse::<u16>()
                    .map_err(|_| "Invalid master port".to_string())?;
                self.replicaof = Some((host.to_string(), port));
                return Ok(());
            }
            _ => {}
        }
        let Some(dir) = table::lookup(&lname) else {
            return Err("Bad directive or wrong number of arguments".into());
        };
        if rest.is_empty() && !matches!(dir.kind, Kind::Str | Kind::Save | Kind::NotifyFlags) {
            return Err("Bad directive or wrong number of arguments".into());
        }
        let rest: Vec<&str> = if rest.is_empty() {
            vec![""]
        } else {
            rest.to_vec()
        };
        let mut value = canonical_value(dir, &rest, self.get(dir.name))?;
        if dir.kind == Kind::Save && !value.is_empty() {
            // The first `save` line replaces the defaults; later ones add save points.
            if !*first_save_line {
                value = format!("{} {}", self.get("save"), value).trim().to_string();
            }
            *first_save_line = false;
        }
        if dir.name == "appendonly" && value == "yes" {
            return Err(
                "appendonly yes is not supported: Resplica does not write an append-only file yet"
                    .into(),
            );
        }
        self.values.insert(dir.name, value);
        Ok(())
    }

    /// CONFIG SET of several `name value` pairs, all or nothing. `protected_allowed` tells whether
    /// the caller passes the `enable-protected-configs` gate.
    pub fn set_many(
        &mut self,
        pairs: &[(String, String)],
        protected_allowed: bool,
    ) -> Result<Vec<&'static str>, SetError> {
        let mut staged: Vec<(&'static Directive, String)> = Vec::new();
        for (name, value) in pairs {
            let err = |reason: &str| SetError {
                param: name.clone(),
                reason: reason.to_string(),
            };
            let Some(dir) = table::lookup(name) else {
                return Err(err("unknown"));
            };
            if staged.iter().any(|(d, _)| d.name == dir.name) {
                return Err(err("duplicate parameter"));
            }
            if !dir.mutable {
                return Err(err("can't set immutable config"));
            }
            if dir.protected && !protected_allowed {
                return Err(err("can't set protected config"));
            }
            let args: Vec<&str> = match dir.kind {
                Kind::Str | Kind::Save | Kind::NotifyFlags => vec![value.as_str()],
                _ => value.split_whitespace().collect(),
            };
            let args = if args.is_empty() { vec![""] } else { args };
            let current = self.get(dir.name).to_string();
            let v = canonical_value(dir, &args, &current).map_err(|r| err(&r))?;
            if dir.name == "appendonly" && v == "yes" {
                return Err(err("Resplica does not write an append-only file yet"));
            }
            if dir.name == "dir" {
                std::env::set_current_dir(&v).map_err(|e| err(&e.to_string()))?;
            }
            staged.push((dir, v));
        }
        let changed = staged.iter().map(|(d, _)| d.name).collect();
        for (dir, v) in staged {
            self.values.insert(dir.name, v);
        }
        Ok(changed)
    }

    /// `(name, value)` of every directive or alias matching one of the glob patterns.
    pub fn matching(&self, patterns: &[&[u8]]) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        for d in table::DIRECTIVES {
            for name in std::iter::once(d.name).chain(d.alias) {
                if patterns
                    .iter()
                    .any(|p| glob_match(p, name.as_bytes(), true))
                {
                    out.push((name, self.get(d.name).to_string()));
                }
            }
        }
        out
    }

    /// Rewrites the config file in place (CONFIG REWRITE).
    pub fn rewrite(&self) -> Result<(), String> {
        file::rewrite(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_defaults_are_valid() {
        let cfg = Config::default();
        for d in table::DIRECTIVES {
            let args: Vec<&str> = if d.default.is_empty() {
                vec![""]
            } else {
                d.default.split(' ').collect()
            };
            let args = if matches!(d.kind, Kind::Str) {
                vec![d.default]
            } else {
                args
            };
            assert_eq!(
                canonical_value(d, &args, d.default).as_deref(),
                Ok(d.default),
                "{}",
                d.name
            );
        }
        assert_eq!(cfg.int("port"), 6379);
    }

    #[test]
    fn parses_and_validates() {
        let mut cfg = Config::default();
        let mut first = true;
        cfg.apply_line(&["maxmemory", "1gb"], &mut first).unwrap();
        assert_eq!(cfg.get("maxmemory"), "1073741824");
        cfg.apply_line(&["slave-read-only", "NO"], &mut first)
            .unwrap();
        assert_eq!(cfg.get("replica-read-only"), "no");
        cfg.apply_line(&["save", "900", "1"], &mut first).unwrap();
        cfg.apply_line(&["save", "300", "10"], &mut first).unwrap();
        assert_eq!(cfg.get("save"), "900 1 300 10");
        assert_eq!(
            cfg.apply_line(&["port", "abc"], &mut first).unwrap_err(),
            "argument couldn't be parsed into an integer"
        );
        assert_eq!(
            cfg.apply_line(&["hz", "0x"], &mut first).unwrap_err(),
            "argument couldn't be parsed into an integer"
        );
        assert_eq!(
            cfg.apply_line(&["loglevel", "loud"], &mut first)
                .unwrap_err(),
            "argument(s) must be one of the following: debug, verbose, notice, warning"
        );
        assert!(cfg.apply_line(&["nosuch", "1"], &mut first).is_err());
        assert!(cfg.apply_line(&["appendonly", "yes"], &mut first).is_err());
        cfg.apply_line(
            &[
                "client-output-buffer-limit",
                "replica",
                "1mb",
                "512kb",
                "30",
            ],
            &mut first,
        )
        .unwrap();
        assert_eq!(
            cfg.get("client-output-buffer-limit"),
            "normal 0 0 0 slave 1048576 524288 30 pubsub 33554432 8388608 60"
        );
        cfg.apply_line(&["notify-keyspace-events", "KEA"], &mut first)
            .unwrap();
        assert_eq!(cfg.get("notify-keyspace-events"), "AKE");
    }

    #[test]
    fn set_many_is_atomic() {
        let mut cfg = Config::default();
        let pairs = vec![
            ("hz".to_string(), "20".to_string()),
            ("maxclients".to_string(), "x".to_string()),
        ];
        let e = cfg.set_many(&pairs, false).unwrap_err();
        assert_eq!(e.param, "maxclients");
        assert_eq!(cfg.get("hz"), "10");
        assert_eq!(
            cfg.set_many(&[("port".into(), "1".into())], false)
                .unwrap_err()
                .reason,
            "can't set immutable config"
        );
        assert_eq!(
            cfg.set_many(&[("dir".into(), "/".into())], false)
                .unwrap_err()
                .reason,
            "can't set protected config"
        );
        let names: Vec<_> = cfg
            .matching(&[b"repl-ping-*"])
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(
            names,
            vec!["repl-ping-replica-period", "repl-ping-slave-period"]
        );
    }
}
