//! Reading the startup configuration (a redis.conf plus `--name value` overrides, exactly the
//! `redis-server` argument style) and rewriting the file in place for CONFIG REWRITE.

use super::table::{self, Kind};
use super::Config;
use crate::protocol::split_args;
use std::path::{Path, PathBuf};

/// Why the server refuses to start; printed as Redis prints a fatal config error.
#[derive(Debug)]
pub struct StartupError(pub String);

impl std::fmt::Display for StartupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn fatal(line_no: usize, line: &str, reason: &str) -> StartupError {
    StartupError(format!(
        "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line {line_no}\n>>> '{line}'\n{reason}"
    ))
}

/// Quotes an argument so `split_args` reads it back unchanged.
fn quote(arg: &str) -> String {
    if !arg.is_empty()
        && !arg
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b == b'"' || b == b'\'' || b == b'\\')
    {
        return arg.to_string();
    }
    let mut s = String::from("\"");
    for c in arg.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

/// Turns `--port 6380 --replicaof host port` into config lines, as redis-server does.
fn cli_lines(args: &[String]) -> Result<Vec<String>, StartupError> {
    let mut lines: Vec<String> = Vec::new();
    for arg in args {
        if let Some(name) = arg.strip_prefix("--") {
            if name.is_empty() {
                return Err(StartupError(format!("Invalid option '{arg}'")));
            }
            lines.push(name.to_string());
        } else if let Some(last) = lines.last_mut() {
            last.push(' ');
            last.push_str(&quote(arg));
        } else {
            return Err(StartupError(format!(
                "Invalid argument '{arg}': options start with --"
            )));
        }
    }
    Ok(lines)
}

fn read_file(path: &Path) -> Result<String, StartupError> {
    std::fs::read_to_string(path).map_err(|e| {
        StartupError(format!(
            "Fatal error, can't open config file '{}': {e}",
            path.display()
        ))
    })
}

fn apply_text(
    cfg: &mut Config,
    text: &str,
    first_save: &mut bool,
    line_base: usize,
) -> Result<(), StartupError> {
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let Some(args) = split_args(trimmed.as_bytes()) else {
            return Err(fatal(
                line_base + i + 1,
                trimmed,
                "Unbalanced quotes in configuration line",
            ));
        };
        let args: Vec<String> = args
            .into_iter()
            .map(|a| String::from_utf8_lossy(&a).into_owned())
            .collect();
        if args.is_empty() {
            continue;
        }
        if args[0].eq_ignore_ascii_case("include") {
            let [_, path] = args.as_slice() else {
                return Err(fatal(
                    line_base + i + 1,
                    trimmed,
                    "Bad directive or wrong number of arguments",
                ));
            };
            let inner = read_file(Path::new(path))?;
            apply_text(cfg, &inner, first_save, 0)?;
            continue;
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        cfg.apply_line(&refs, first_save)
            .map_err(|reason| fatal(line_base + i + 1, trimmed, &reason))?;
    }
    Ok(())
}

/// Builds the startup configuration from `[config-file] [--name value ...]`. A config file of
/// `-` is read from standard input, as redis-server allows.
pub fn parse_startup(args: &[String]) -> Result<Config, StartupError> {
    let mut cfg = Config::default();
    let (file, overrides) = match args.first() {
        Some(first) if !first.starts_with("--") => (Some(first.clone()), &args[1..]),
        _ => (None, args),
    };
    let mut text = String::new();
    if let Some(path) = &file {
        if path == "-" {
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                .map_err(|e| StartupError(format!("Fatal error reading config from stdin: {e}")))?;
        } else {
            let p = PathBuf::from(path);
            text = read_file(&p)?;
            cfg.file = Some(std::fs::canonicalize(&p).unwrap_or(p));
        }
    }
    for line in cli_lines(overrides)? {
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&line);
        text.push('\n');
    }
    let mut first_save = true;
    apply_text(&mut cfg, &text, &mut first_save, 0)?;
    Ok(cfg)
}

/// The lines a directive should have in a rewritten file.
fn directive_lines(cfg: &Config, name: &'static str, kind: Kind) -> Vec<String> {
    let value = cfg.get(name);
    match kind {
        Kind::Save if value.is_empty() => vec!["save \"\"".to_string()],
        Kind::Save => {
            let parts: Vec<&str> = value.split(' ').collect();
            parts
                .chunks(2)
                .map(|c| format!("save {}", c.join(" ")))
                .collect()
        }
        Kind::OutputBufferLimit => {
            let parts: Vec<&str> = value.split(' ').collect();
            parts
                .chunks(4)
                .map(|c| format!("client-output-buffer-limit {}", c.join(" ")))
                .collect()
        }
        Kind::Bind => vec![format!("bind {value}")],
        _ => vec![format!("{name} {}", quote(value))],
    }
}

/// CONFIG REWRITE: keeps comments and unknown lines, rewrites every known directive where it
/// first appears, drops its repeats, and appends non-default settings that were not in the file.
pub fn rewrite(cfg: &Config) -> Result<(), String> {
    let Some(path) = &cfg.file else {
        return Err("The server is running without a config file".into());
    };
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let mut out: Vec<String> = Vec::new();
    let mut done: Vec<&'static str> = Vec::new();
    let mut replicaof_done = false;
    for line in old.lines() {
        let trimmed = line.trim();
        let args = if trimmed.starts_with('#') {
            None
        } else {
            split_args(trimmed.as_bytes())
        };
        let name = args
            .as_ref()
            .and_then(|a| a.first())
            .map(|n| String::from_utf8_lossy(n).to_ascii_lowercase());
        let Some(name) = name else {
            if line.starts_with("# Generated by CONFIG REWRITE") {
                continue;
            }
            out.push(line.to_string());
            continue;
        };
        if name == "replicaof" || name == "slaveof" {
            if !replicaof_done {
                if let Some((host, port)) = &cfg.replicaof {
                    out.push(format!("replicaof {} {port}", quote(host)));
                }
                replicaof_done = true;
            }
            continue;
        }
        match table::lookup(&name) {
            Some(d) if done.contains(&d.name) => {}
            Some(d) => {
                out.extend(directive_lines(cfg, d.name, d.kind));
                done.push(d.name);
            }
            None => out.push(line.to_string()),
        }
    }
    let mut appended = Vec::new();
    for d in table::DIRECTIVES {
        if !done.contains(&d.name) && cfg.get(d.name) != d.default {
            appended.extend(directive_lines(cfg, d.name, d.kind));
        }
    }
    if let (false, Some((host, port))) = (replicaof_done, &cfg.replicaof) {
        appended.push(format!("replicaof {} {port}", quote(host)));
    }
    if !appended.is_empty() {
        out.push("# Generated by CONFIG REWRITE".to_string());
        out.extend(appended);
    }
    let mut text = out.join("\n");
    text.push('\n');
    write_atomically(path, text.as_bytes()).map_err(|e| format!("Rewriting config file: {e}"))
}

/// Writes a temp file beside `path`, fsyncs it and renames it over `path`, so a crash leaves
/// either the old or the new file, never half of one.
pub fn write_atomically(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("config"),
        std::process::id()
    ));
    let mut f = crate::atomic_file::AtomicFile::create(path, tmp)?;
    f.write_all(data)?;
    f.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_then_overrides_and_fatal_errors() {
        let dir = std::env::temp_dir().join(format!("resplica-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("r.conf");
        std::fs::write(
            &path,
            "# comment\nport 7000\nsave 900 1\nrename-command FLUSHALL \"\"\n",
        )
        .unwrap();
        let args: Vec<String> = [
            path.to_str().unwrap(),
            "--port",
            "7001",
            "--replicaof",
            "10.0.0.1",
            "6379",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let cfg = parse_startup(&args).unwrap();
        assert_eq!(cfg.get("port"), "7001");
        assert_eq!(cfg.get("save"), "900 1");
        assert_eq!(cfg.replicaof, Some(("10.0.0.1".to_string(), 6379)));
        assert_eq!(
            cfg.rename_commands,
            vec![("FLUSHALL".to_string(), String::new())]
        );

        std::fs::write(&path, "port 7000\n\nhz nope\n").unwrap();
        let err = parse_startup(&[path.to_str().unwrap().to_string()])
            .unwrap_err()
            .0;
        assert!(err.contains("*** FATAL CONFIG FILE ERROR"), "{err}");
        assert!(
            err.contains("at line 3\n>>> 'hz nope'\nargument couldn't be parsed into an integer"),
            "{err}"
        );

        let mut cfg = Config::default();
        std::fs::write(&path, "# keep me\nhz 20\nhz 30\nport 7000\n").unwrap();
        cfg.file = Some(path.clone());
        cfg.set_many(
            &[
                ("hz".into(), "50".into()),
                ("maxclients".into(), "77".into()),
            ],
            false,
        )
        .unwrap();
        cfg.replicaof = Some(("127.0.0.1".into(), 7002));
        rewrite(&cfg).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "# keep me\nhz 50\nport 6379\n# Generated by CONFIG REWRITE\nmaxclients 77\nreplicaof 127.0.0.1 7002\n"
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}

#[cfg(test)]
mod example_file {
    use super::*;

    /// redis.conf.example must load cleanly and mention every directive in the table.
    #[test]
    fn example_config_documents_every_directive() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/redis.conf.example");
        let cfg = parse_startup(&[path.to_string()]).expect("redis.conf.example must load");
        let text = std::fs::read_to_string(path).unwrap();
        for d in table::DIRECTIVES {
            assert!(
                text.lines()
                    .any(|l| l.split_whitespace().next() == Some(d.name)),
                "redis.conf.example lacks {}",
                d.name
            );
            assert_eq!(
                cfg.get(d.name),
                d.default,
                "example default differs for {}",
                d.name
            );
        }
    }
}
