//! Log lines in Redis's format, `<pid>:<role> <dd Mon yyyy HH:MM:SS.mmm> <level> <message>`, so
//! operators' greps and test harnesses that wait for "Ready to accept connections" keep working.
//!
//! Levels map as Redis's: `warning` → `#` (tracing WARN/ERROR), `notice` → `*` (INFO),
//! `verbose` → `-` (DEBUG), `debug` → `.` (TRACE). The threshold follows `loglevel` at runtime.

use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

static ROLE: AtomicU8 = AtomicU8::new(b'C');
static THRESHOLD: AtomicU8 = AtomicU8::new(2);

/// Sets the role letter: `M` master, `S` replica, `C` while starting.
pub fn set_role(role: u8) {
    ROLE.store(role, Ordering::Relaxed);
}

/// Applies a `loglevel` value (debug, verbose, notice, warning).
pub fn set_level(name: &str) {
    let rank = match name {
        "debug" => 0,
        "verbose" => 1,
        "notice" => 2,
        _ => 3,
    };
    THRESHOLD.store(rank, Ordering::Relaxed);
}

fn rank(level: &Level) -> u8 {
    match *level {
        Level::TRACE => 0,
        Level::DEBUG => 1,
        Level::INFO => 2,
        _ => 3,
    }
}

/// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    (y, m, d)
}

/// `dd Mon yyyy HH:MM:SS.mmm` for a Unix time in milliseconds (UTC).
pub fn format_time(ms: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = ms.div_euclid(1000);
    let (y, m, d) = civil(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    format!(
        "{:02} {} {} {:02}:{:02}:{:02}.{:03}",
        d,
        MONTHS[(m - 1) as usize],
        y,
        sod / 3600,
        sod % 3600 / 60,
        sod % 60,
        ms.rem_euclid(1000)
    )
}

struct RedisFormat;

impl<S, N> FormatEvent<S, N> for RedisFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let level = event.metadata().level();
        if rank(level) < THRESHOLD.load(Ordering::Relaxed) {
            return Ok(());
        }
        let mark = match rank(level) {
            0 => '.',
            1 => '-',
            2 => '*',
            _ => '#',
        };
        write!(
            writer,
            "{}:{} {} {} ",
            std::process::id(),
            ROLE.load(Ordering::Relaxed) as char,
            format_time(crate::store::now_ms()),
            mark
        )?;
        ctx.format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// Installs the global logger writing to `logfile` (stdout when empty).
pub fn init(logfile: &str, level: &str) -> std::io::Result<()> {
    set_level(level);
    let builder = tracing_subscriber::fmt()
        .with_max_level(Level::TRACE)
        .event_format(RedisFormat);
    let result = if logfile.is_empty() {
        builder.with_writer(std::io::stdout).try_init()
    } else {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(logfile)?;
        builder.with_writer(std::sync::Mutex::new(file)).try_init()
    };
    // A second init (tests running servers in-process) keeps the first logger.
    let _ = result;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn redis_time_format() {
        assert_eq!(super::format_time(0), "01 Jan 1970 00:00:00.000");
        assert_eq!(
            super::format_time(1_795_651_344_123),
            "26 Nov 2026 00:02:24.123"
        );
    }
}
