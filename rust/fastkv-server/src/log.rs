//! Redis-style log lines: `pid:M 26 Nov 2026 02:53:19.737 * message`.
//!
//! The role letter is `M` (master) once the server runs and `C` while the configuration is
//! read, as Redis prints; the level mark is `.` debug, `-` verbose, `*` notice, `#` warning.
//! The level threshold is read from the engine's live configuration on every line (logging
//! is rare, and `CONFIG SET loglevel` takes effect at once). Times are UTC: the core has no
//! time-zone database and reading one needs `unsafe` FFI.

use fastkv_core::Engine;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// Redis's log levels, least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug,
    Verbose,
    Notice,
    Warning,
}

impl Level {
    fn mark(self) -> char {
        match self {
            Level::Debug => '.',
            Level::Verbose => '-',
            Level::Notice => '*',
            Level::Warning => '#',
        }
    }

    fn from_name(s: &str) -> Level {
        match s {
            "debug" => Level::Debug,
            "verbose" => Level::Verbose,
            "warning" => Level::Warning,
            _ => Level::Notice,
        }
    }
}

enum Target {
    Stdout,
    Stderr,
    File(std::fs::File),
}

/// Where log lines go and which are kept.
pub struct Logger {
    target: Mutex<Target>,
    /// Source of the live `loglevel`; `None` before the engine exists.
    engine: Mutex<Option<Arc<Engine>>>,
    /// Lines below this are dropped whatever `loglevel` says (embedded servers: warnings only).
    floor: Level,
    role: Mutex<char>,
}

impl Logger {
    /// Logs to `logfile` (appending), or standard output if it is empty.
    pub fn open(logfile: &str) -> std::io::Result<Logger> {
        let target = if logfile.is_empty() {
            Target::Stdout
        } else {
            Target::File(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(logfile)?,
            )
        };
        Ok(Logger {
            target: Mutex::new(target),
            engine: Mutex::new(None),
            floor: Level::Debug,
            role: Mutex::new('C'),
        })
    }

    /// Warnings only, to standard error: for servers started from an embedding program.
    pub fn quiet() -> Logger {
        Logger {
            target: Mutex::new(Target::Stderr),
            engine: Mutex::new(None),
            floor: Level::Warning,
            role: Mutex::new('M'),
        }
    }

    /// From now on, obey the engine's `loglevel` and log as the master (`M`).
    pub fn attach(&self, engine: &Arc<Engine>) {
        if let Ok(mut e) = self.engine.lock() {
            *e = Some(engine.clone());
        }
        if let Ok(mut r) = self.role.lock() {
            *r = 'M';
        }
    }

    fn threshold(&self) -> Level {
        let configured = self
            .engine
            .lock()
            .ok()
            .and_then(|e| {
                e.as_ref()
                    .map(|e| Level::from_name(&e.config.read().loglevel))
            })
            .unwrap_or(Level::Notice);
        configured.max(self.floor)
    }

    pub fn log(&self, level: Level, msg: &str) {
        if level < self.threshold() {
            return;
        }
        let role = self.role.lock().map(|r| *r).unwrap_or('M');
        let line = format!(
            "{}:{role} {} {} {msg}\n",
            std::process::id(),
            timestamp(fastkv_core::time::now_ms()),
            level.mark()
        );
        self.write_raw(&line);
    }

    /// Redis's signal-handler line: `pid:signal-handler (unix-seconds) message`.
    pub fn signal_line(&self, msg: &str) {
        let line = format!(
            "{}:signal-handler ({}) {msg}\n",
            std::process::id(),
            fastkv_core::time::now_ms() / 1000
        );
        self.write_raw(&line);
    }

    fn write_raw(&self, line: &str) {
        if let Ok(mut t) = self.target.lock() {
            // A failing log write has nowhere to be reported; the server keeps going.
            let _ = match &mut *t {
                Target::Stdout => {
                    let mut o = std::io::stdout().lock();
                    o.write_all(line.as_bytes()).and_then(|_| o.flush())
                }
                Target::Stderr => std::io::stderr().lock().write_all(line.as_bytes()),
                Target::File(f) => f.write_all(line.as_bytes()),
            };
        }
    }

    pub fn notice(&self, msg: &str) {
        self.log(Level::Notice, msg);
    }

    pub fn warning(&self, msg: &str) {
        self.log(Level::Warning, msg);
    }

    pub fn verbose(&self, msg: &str) {
        self.log(Level::Verbose, msg);
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `26 Nov 2026 02:53:19.737` (UTC) for a time in ms since the epoch.
pub fn timestamp(ms: u64) -> String {
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    let month = MONTHS
        .get((m as usize).saturating_sub(1))
        .copied()
        .unwrap_or("???");
    format!(
        "{d:02} {month} {y} {:02}:{:02}:{:02}.{:03}",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60,
        ms % 1000
    )
}

/// Days since 1970-01-01 to (year, month 1..=12, day 1..=31), proleptic Gregorian
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(timestamp(0), "01 Jan 1970 00:00:00.000");
        // 2026-11-26 02:53:19.737 UTC
        assert_eq!(timestamp(1_795_661_599_737), "26 Nov 2026 02:53:19.737");
        assert_eq!(timestamp(951_782_400_000), "29 Feb 2000 00:00:00.000");
    }
}
