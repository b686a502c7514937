//! CPU affinity: the load generator on some cores, the measured server and its Redis on others,
//! so they stop taking each other's cycles (and caches) in the middle of a measurement window.
//! A child is pinned *before* its exec, so every thread it starts, and every process it starts in
//! turn (redis-server under `serve`), inherits the pin: either by spawning it from a thread pinned
//! for the moment ([`with_affinity`]: a child inherits the affinity of the thread that forks it),
//! or, where another thread does the fork (`authbench_procs::child`'s spawner thread), by setting
//! the affinity in the forked child itself ([`pin_command`]).
#![allow(unsafe_code)]

use std::io;
use std::process::Command;

/// A set of CPUs, by index, as `taskset --cpu-list` writes it: `1`, `0-1`, `0,2-3`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cpus(Vec<usize>);

impl Cpus {
    pub fn parse(s: &str) -> Result<Cpus, String> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let bad = || format!("`{s}`: a CPU list is like 1, 0-1 or 0,2-3");
            let (a, b) = match part.split_once('-') {
                Some((a, b)) => (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?),
                None => {
                    let a: usize = part.parse().map_err(|_| bad())?;
                    (a, a)
                }
            };
            if a > b || b >= libc::CPU_SETSIZE as usize {
                return Err(bad());
            }
            out.extend(a..=b);
        }
        out.sort_unstable();
        out.dedup();
        if out.is_empty() {
            return Err(format!("`{s}`: no CPU named"));
        }
        Ok(Cpus(out))
    }

    pub fn of(list: &[usize]) -> Cpus {
        let mut v = list.to_vec();
        v.sort_unstable();
        v.dedup();
        Cpus(v)
    }

    pub fn as_slice(&self) -> &[usize] {
        &self.0
    }

    /// `0-1`, `2`: the form [`Cpus::parse`] reads and `taskset` prints.
    pub fn to_list(&self) -> String {
        let mut parts = Vec::new();
        let mut i = 0;
        while i < self.0.len() {
            let start = self.0[i];
            while i + 1 < self.0.len() && self.0[i + 1] == self.0[i] + 1 {
                i += 1;
            }
            parts.push(if self.0[i] == start { start.to_string() } else { format!("{start}-{}", self.0[i]) });
            i += 1;
        }
        parts.join(",")
    }
}

fn set_of(cpus: &Cpus) -> libc::cpu_set_t {
    // SAFETY: cpu_set_t is a plain bit array; all zeros is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    for &c in &cpus.0 {
        // SAFETY: `c` < CPU_SETSIZE (checked when the list was made or read back below).
        unsafe { libc::CPU_SET(c, &mut set) };
    }
    set
}

/// The CPUs thread `tid` may run on (0: the calling thread).
pub fn get(tid: i32) -> io::Result<Cpus> {
    // SAFETY: as in `set_of`.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid cpu_set_t of the size passed.
    if unsafe { libc::sched_getaffinity(tid, std::mem::size_of::<libc::cpu_set_t>(), &mut set) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: reading bits of a valid set, each index < CPU_SETSIZE.
    Ok(Cpus((0..libc::CPU_SETSIZE as usize).filter(|&c| unsafe { libc::CPU_ISSET(c, &set) }).collect()))
}

/// Let thread `tid` (0: the calling thread) run on `cpus` only.
pub fn set(tid: i32, cpus: &Cpus) -> io::Result<()> {
    let set = set_of(cpus);
    // SAFETY: `set` is a valid cpu_set_t of the size passed.
    if unsafe { libc::sched_setaffinity(tid, std::mem::size_of::<libc::cpu_set_t>(), &set) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Run `f` (a spawn) with the calling thread pinned to `cpus`, then put its affinity back. `None`
/// runs `f` as it is.
pub fn with_affinity<T>(cpus: Option<&Cpus>, f: impl FnOnce() -> T) -> io::Result<T> {
    let Some(cpus) = cpus else { return Ok(f()) };
    let before = get(0)?;
    set(0, cpus)?;
    let out = f();
    set(0, &before)?;
    Ok(out)
}

/// Pin every thread of this process to `cpus` (threads started later inherit it from theirs).
pub fn pin_process(cpus: &Cpus) -> io::Result<()> {
    for entry in std::fs::read_dir("/proc/self/task")? {
        if let Some(tid) = entry?.file_name().to_str().and_then(|t| t.parse::<i32>().ok()) {
            // A thread that ended since the listing is no error.
            match set(tid, cpus) {
                Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {}
                other => other?,
            }
        }
    }
    Ok(())
}

/// Pin the child `command` will start to `cpus` between its fork and its exec, whichever thread
/// forks it: one `sched_setaffinity` system call in the child (async-signal-safe, no allocation).
pub fn pin_command(command: &mut Command, cpus: &Cpus) {
    use std::os::unix::process::CommandExt;
    let set = set_of(cpus);
    // SAFETY: the closure makes one raw system call on a `cpu_set_t` copied into it before the fork
    // and builds an `io::Error` from a raw errno, which does not allocate; it touches no memory
    // shared with the parent.
    unsafe {
        command.pre_exec(move || {
            if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// CPUs this process may run on now.
pub fn online() -> usize {
    get(0).map_or(1, |c| c.0.len().max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists_parse_and_print_as_taskset_does() {
        assert_eq!(Cpus::parse("0,2-3").unwrap().as_slice(), &[0, 2, 3]);
        assert_eq!(Cpus::parse("3,1,1").unwrap().to_list(), "1,3");
        assert_eq!(Cpus::of(&[0, 1, 2, 5]).to_list(), "0-2,5");
        assert!(Cpus::parse("2-1").is_err());
        assert!(Cpus::parse("x").is_err());
        assert!(Cpus::parse("").is_err());
    }

    #[test]
    fn a_child_spawned_pinned_inherits_the_pin_and_the_thread_gets_its_own_back() {
        let before = get(0).unwrap();
        let one = Cpus::of(&before.as_slice()[..1]);
        let mut child = with_affinity(Some(&one), || {
            std::process::Command::new("sleep").arg("2").spawn().expect("spawn sleep")
        })
        .unwrap();
        assert_eq!(get(child.id() as i32).unwrap(), one);
        assert_eq!(get(0).unwrap(), before);
        let _ = child.kill();
        let _ = child.wait();
    }

    #[test]
    fn a_command_pinned_before_exec_runs_pinned_whoever_forks_it() {
        let before = get(0).unwrap();
        let last = Cpus::of(&before.as_slice()[before.as_slice().len() - 1..]);
        let mut command = Command::new("sleep");
        command.arg("2");
        pin_command(&mut command, &last);
        // Forked by another thread, as `authbench_procs::child`'s spawner thread does.
        let mut child = std::thread::spawn(move || command.spawn().expect("spawn sleep")).join().unwrap();
        assert_eq!(get(child.id() as i32).unwrap(), last);
        assert_eq!(get(0).unwrap(), before, "the parent's own affinity is untouched");
        let _ = child.kill();
        let _ = child.wait();
    }
}
