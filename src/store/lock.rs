//! The store's lock: one collect at a time, also across hosts and containers that share the
//! folder.
//!
//! `STORE/.lock` holds one line, `<pid> <host> <since> [pidns=<id>] [start=<ticks>]`: the
//! collect's process id, host name, start time, and (Linux) its PID namespace and the
//! process's start time in clock ticks since boot, which tell a process from a later one given
//! the same id. It is created with `O_EXCL` and written at once. A lock is stale, and taken
//! over, only when
//! - it was taken on this host (the host name, and the PID namespace when both sides know
//!   it: another container with the same host name is another host), and its process is gone
//!   (no such process, or one that started later under the same id); or
//! - it is empty or unreadable and older than [`GRACE`] (a crash between the create and the
//!   write); a younger one is a collect taking the lock right now.
//!
//! A lock of another host is never taken over: the error names the host and says how to
//! remove the lock if no collect runs there. A takeover is judged again under an exclusive
//! `flock` of the store folder and made under it, so of two collects that find one stale lock,
//! one takes it and the other then finds it held.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::{LOCK, Result, StoreError, io};
use crate::event::format_millis;

/// How old an empty or unreadable lock must be to be stale.
pub const GRACE: Duration = Duration::from_secs(30);

/// Held while a collect runs; removes the lock file when dropped (if it is still this one).
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
    /// The lock file's identity (device, inode), to never remove another collect's lock.
    id: Option<(u64, u64)>,
}

impl Lock {
    /// Whether the lock file is still this collect's (another collect may, wrongly, have
    /// judged it stale): checked before the commit point.
    pub fn check(&self) -> Result<()> {
        let now = fs::symlink_metadata(&self.path).ok().and_then(|m| file_id(&m));
        if self.id.is_none() || now == self.id {
            return Ok(());
        }
        Err(StoreError::LockLost {
            path: self.path.clone(),
        })
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        if self.check().is_ok() {
            let _ = fs::remove_file(&self.path);
        }
    }
}

#[cfg(unix)]
fn file_id(m: &fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn file_id(_: &fs::Metadata) -> Option<(u64, u64)> {
    None
}

/// Who holds (or held) a lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub pid: u32,
    pub host: String,
    pub since: String,
    pub pidns: Option<String>,
    pub start: Option<u64>,
}

impl Holder {
    /// This process.
    pub fn me() -> Holder {
        let pid = std::process::id();
        Holder {
            pid,
            host: hostname(),
            since: format_millis(chrono::Utc::now().timestamp_millis() / 1000 * 1000),
            pidns: pid_namespace(),
            start: start_ticks(pid),
        }
    }

    /// Reads a lock line (older mfatrail wrote `<pid> <host> <since>`).
    pub fn parse(text: &str) -> Option<Holder> {
        let mut words = text.split_whitespace();
        let pid = words.next()?.parse().ok()?;
        let host = words.next()?.to_owned();
        let since = words.next().unwrap_or("?").to_owned();
        let mut h = Holder {
            pid,
            host,
            since,
            pidns: None,
            start: None,
        };
        for w in words {
            if let Some(v) = w.strip_prefix("pidns=") {
                h.pidns = Some(v.to_owned());
            } else if let Some(v) = w.strip_prefix("start=") {
                h.start = v.parse().ok();
            }
        }
        Some(h)
    }

    pub fn line(&self) -> String {
        let mut s = format!("{} {} {}", self.pid, self.host, self.since);
        if let Some(ns) = &self.pidns {
            s.push_str(&format!(" pidns={ns}"));
        }
        if let Some(t) = self.start {
            s.push_str(&format!(" start={t}"));
        }
        s.push('\n');
        s
    }

    /// Whether `self` was taken on the host `me` runs on (and in its PID namespace).
    fn same_host(&self, me: &Holder) -> bool {
        self.host.eq_ignore_ascii_case(&me.host)
            && match (&self.pidns, &me.pidns) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }

    /// Whether its process still runs (on this host). Where that cannot be known, it does.
    fn alive(&self) -> bool {
        if !cfg!(target_os = "linux") {
            return true;
        }
        if !Path::new(&format!("/proc/{}", self.pid)).exists() {
            return false;
        }
        // The same id given to a later process is not the collect that took the lock.
        match (self.start, start_ticks(self.pid)) {
            (Some(then), Some(now)) => then == now,
            _ => true,
        }
    }
}

/// The host's name (Linux: the kernel's; elsewhere the environment's).
fn hostname() -> String {
    let name = fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .unwrap_or_default();
    let name: String = name.trim().chars().filter(|c| !c.is_whitespace()).collect();
    if name.is_empty() { "unknown-host".into() } else { name }
}

/// The PID namespace of this process (Linux), e.g. `4026531836`.
fn pid_namespace() -> Option<String> {
    let link = fs::read_link("/proc/self/ns/pid").ok()?;
    let text = link.to_string_lossy();
    let id: String = text.chars().filter(char::is_ascii_digit).collect();
    (!id.is_empty()).then_some(id)
}

/// When process `pid` started, in clock ticks since boot (field 22 of `/proc/<pid>/stat`).
fn start_ticks(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// What a lock found in place is.
#[derive(Debug)]
enum Verdict {
    /// Held by a collect that runs (this host), or may run (another host).
    Held(Holder),
    /// Being written by a collect taking it right now.
    Starting,
    /// Left by a collect that is gone: taken over.
    Stale,
}

/// Judges the lock at `path`; None when there is none.
fn judge(path: &Path, me: &Holder) -> Result<Option<Verdict>> {
    let text = match fs::read(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(path)(e)),
    };
    match std::str::from_utf8(&text).ok().and_then(Holder::parse) {
        Some(h) if h.same_host(me) && !h.alive() => Ok(Some(Verdict::Stale)),
        Some(h) => Ok(Some(Verdict::Held(h))),
        None => {
            // Empty or unreadable: a crash between create and write once it is old enough.
            let age = fs::metadata(path)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| SystemTime::now().duration_since(t).ok());
            if age.is_some_and(|a| a > GRACE) {
                Ok(Some(Verdict::Stale))
            } else {
                Ok(Some(Verdict::Starting))
            }
        }
    }
}

/// Creates the lock file for `me` (fails with `AlreadyExists` when there is one).
fn create(path: &Path, me: &Holder) -> std::io::Result<Lock> {
    let mut f = fs::OpenOptions::new().write(true).create_new(true).open(path)?;
    let written = f.write_all(me.line().as_bytes()).and_then(|()| f.sync_all());
    if let Err(e) = written {
        let _ = fs::remove_file(path);
        return Err(e);
    }
    let id = f.metadata().ok().and_then(|m| file_id(&m));
    Ok(Lock {
        path: path.to_path_buf(),
        id,
    })
}

/// Serializes takeovers: an exclusive `flock` of the store folder, held until dropped (where
/// the platform or file system has none, takeovers are not serialized).
fn takeover_guard(root: &Path) -> Option<fs::File> {
    let f = fs::File::open(root).ok()?;
    f.lock().ok()?;
    Some(f)
}

/// Takes the lock of the store at `root`.
pub fn acquire(root: &Path) -> Result<Lock> {
    acquire_as(root, &Holder::me())
}

fn acquire_as(root: &Path, me: &Holder) -> Result<Lock> {
    let path = root.join(LOCK);
    for _ in 0..4 {
        match create(&path, me) {
            Ok(lock) => return Ok(lock),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io(&path)(e)),
        }
        match judge(&path, me)? {
            // Released meanwhile: take it.
            None => continue,
            Some(Verdict::Held(h)) => return Err(held(root, &h, me)),
            Some(Verdict::Starting) => {
                return Err(StoreError::LockStarting {
                    path: root.to_path_buf(),
                });
            }
            Some(Verdict::Stale) => {
                let _guard = takeover_guard(root);
                // Judged again under the guard: another collect may have taken it over since.
                if let Some(Verdict::Stale) = judge(&path, me)? {
                    match fs::remove_file(&path) {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => return Err(io(&path)(e)),
                    }
                    match create(&path, me) {
                        Ok(lock) => return Ok(lock),
                        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                        Err(e) => return Err(io(&path)(e)),
                    }
                }
            }
        }
    }
    Err(StoreError::Locked {
        path: root.to_path_buf(),
        holder: "the lock keeps changing hands".into(),
    })
}

fn held(root: &Path, h: &Holder, me: &Holder) -> StoreError {
    if h.same_host(me) {
        StoreError::Locked {
            path: root.to_path_buf(),
            holder: format!("pid {} on this host, since {}", h.pid, h.since),
        }
    } else {
        let host = if h.host.eq_ignore_ascii_case(&me.host) {
            format!("{} (another PID namespace: another container)", h.host)
        } else {
            h.host.clone()
        };
        StoreError::LockedElsewhere {
            path: root.to_path_buf(),
            host,
            pid: h.pid,
            since: h.since.clone(),
            here: me.host.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock_file(root: &Path, text: &str) {
        fs::write(root.join(LOCK), text).unwrap();
    }

    #[test]
    fn lines_round_trip_and_old_lines_parse() {
        let me = Holder::me();
        assert_eq!(Holder::parse(&me.line()), Some(me.clone()));
        let old = Holder::parse("4194303 build-7 2026-11-29T08:00:00Z\n").unwrap();
        assert_eq!(
            (old.pid, old.host.as_str(), old.pidns, old.start),
            (4194303, "build-7", None, None)
        );
        assert_eq!(Holder::parse(""), None);
        assert_eq!(Holder::parse("garbage"), None);
        if cfg!(target_os = "linux") {
            assert!(me.start.is_some() && me.pidns.is_some(), "{me:?}");
            assert!(me.alive());
        }
    }

    #[test]
    fn a_live_lock_is_refused_a_dead_one_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let me = Holder::me();
        let lock = acquire(dir.path()).unwrap();
        assert!(matches!(acquire(dir.path()), Err(StoreError::Locked { .. })));
        lock.check().unwrap();
        drop(lock);
        assert!(!dir.path().join(LOCK).exists());
        if !cfg!(target_os = "linux") {
            return;
        }
        // This host, a process that is gone.
        let dead = Holder {
            pid: 4_194_303,
            ..me.clone()
        };
        lock_file(dir.path(), &dead.line());
        drop(acquire(dir.path()).unwrap());
        // This host, this process's id given to a process that started later.
        let reused = Holder {
            start: me.start.map(|t| t + 1),
            ..me.clone()
        };
        lock_file(dir.path(), &reused.line());
        drop(acquire(dir.path()).unwrap());
    }

    #[test]
    fn another_hosts_lock_is_never_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let me = Holder::me();
        for other in [
            Holder {
                host: format!("{}-other", me.host),
                pid: 4_194_303,
                ..me.clone()
            },
            Holder {
                pidns: Some("1".into()),
                pid: 4_194_303,
                ..me.clone()
            },
        ] {
            lock_file(dir.path(), &other.line());
            match acquire(dir.path()) {
                Err(e @ StoreError::LockedElsewhere { .. }) => {
                    let msg = e.to_string();
                    assert!(msg.contains(&other.host) && msg.contains("remove"), "{msg}");
                }
                other => panic!("{other:?}"),
            }
            assert_eq!(fs::read_to_string(dir.path().join(LOCK)).unwrap(), other.line());
        }
    }

    #[test]
    fn an_empty_lock_is_a_collect_starting_until_it_is_old() {
        let dir = tempfile::tempdir().unwrap();
        lock_file(dir.path(), "");
        assert!(matches!(acquire(dir.path()), Err(StoreError::LockStarting { .. })));
        let f = fs::File::options().write(true).open(dir.path().join(LOCK)).unwrap();
        f.set_modified(SystemTime::now() - 2 * GRACE).unwrap();
        drop(f);
        let lock = acquire(dir.path()).unwrap();
        let text = fs::read_to_string(dir.path().join(LOCK)).unwrap();
        assert_eq!(Holder::parse(&text).map(|h| h.pid), Some(std::process::id()));
        drop(lock);
    }

    #[test]
    fn of_collects_racing_for_a_stale_lock_one_wins() {
        if !cfg!(target_os = "linux") {
            return;
        }
        for round in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let dead = Holder {
                pid: 4_194_303,
                ..Holder::me()
            };
            lock_file(dir.path(), &dead.line());
            let n = 8;
            let barrier = std::sync::Barrier::new(n);
            let got: Vec<Result<Lock>> = std::thread::scope(|s| {
                let handles: Vec<_> = (0..n)
                    .map(|_| {
                        s.spawn(|| {
                            barrier.wait();
                            acquire(dir.path())
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            // Every lock won is still held here (none dropped yet): exactly one.
            let won = got.iter().filter(|r| r.is_ok()).count();
            assert_eq!(won, 1, "round {round}: {got:?}");
            // The others are refused: the lock is held, or being written that very moment.
            for r in &got {
                if let Err(e) = r {
                    assert!(
                        matches!(e, StoreError::Locked { .. } | StoreError::LockStarting { .. }),
                        "round {round}: {e}"
                    );
                }
            }
        }
    }
}
