//! Child processes that never outlive authbench, and signals sent without `/bin/kill`.
//!
//! Every child authbench starts (`authbench serve` under `compare`/`faults`, a private
//! redis-server, `authbench load` under `faults`) goes through [`spawn`], so a `kill -9` of the
//! parent leaves nothing running: the child asks the kernel for a parent-death signal
//! (`PR_SET_PDEATHSIG`). The kernel sends that signal when the *thread* that forked the child
//! exits, not the process, and tokio's blocking-pool threads exit when idle; so every child is
//! forked by one spawner thread that lives as long as the process. After arming the signal the
//! child checks that its parent is still the process that forked it (it may have died between
//! fork and prctl) and gives up the exec if not.
//!
//! [`pin_children`] pins every child started after it to a set of CPUs, before its exec
//! (`compare --pin`: the servers, Redis and HAProxy on CPUs of their own, away from the load
//! generator): the spawner thread forks, so the pin is set in the child itself.

use std::io;
use std::process::{Child, Command};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};

use authbench_util::affinity::{self, Cpus};

pub use rustix::process::Signal;
use rustix::process::{Pid, getppid, kill_process, set_parent_process_death_signal};

type Job = (Command, mpsc::SyncSender<io::Result<Child>>);

/// The spawner thread's queue; the sender lives in a static, so the thread never exits.
static SPAWNER: OnceLock<mpsc::Sender<Job>> = OnceLock::new();

fn spawner() -> &'static mpsc::Sender<Job> {
    SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("authbench-spawner".into())
            .spawn(move || {
                for (mut command, reply) in rx {
                    let _ = reply.send(command.spawn());
                }
            })
            .expect("start the child-spawner thread");
        tx
    })
}

/// The CPUs every child is pinned to before its exec (`None`: the spawner thread's, unpinned).
static CHILD_CPUS: Mutex<Option<Cpus>> = Mutex::new(None);

/// Pin every child [`spawn`] starts from now on to `cpus` (`None`: stop pinning).
pub fn pin_children(cpus: Option<Cpus>) {
    if let Ok(mut c) = CHILD_CPUS.lock() {
        *c = cpus;
    }
}

/// The CPUs children are pinned to now ([`pin_children`]).
pub fn children_cpus() -> Option<Cpus> {
    CHILD_CPUS.lock().ok().and_then(|c| c.clone())
}

/// Spawn `command` as a child that receives `on_parent_death` (SIGTERM lets a server or Redis
/// shut down; SIGKILL for children with nothing to clean up) when this process dies, however it
/// dies. Blocks until the child is forked (not until it is ready).
pub fn spawn(mut command: Command, on_parent_death: Signal) -> io::Result<Child> {
    die_with_parent(&mut command, on_parent_death);
    if let Some(cpus) = children_cpus() {
        affinity::pin_command(&mut command, &cpus);
    }
    let (reply, answer) = mpsc::sync_channel(1);
    spawner().send((command, reply)).map_err(|_| io::Error::other("the child-spawner thread is gone"))?;
    answer.recv().map_err(|_| io::Error::other("the child-spawner thread is gone"))?
}

/// Send `signal` to process `pid` (`kill(2)`).
pub fn signal(pid: u32, signal: Signal) -> io::Result<()> {
    let pid = i32::try_from(pid)
        .ok()
        .and_then(Pid::from_raw)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, format!("not a process id: {pid}")))?;
    kill_process(pid, signal).map_err(io::Error::from)
}

/// Arm the parent-death signal in the forked child, before exec.
///
/// The one `unsafe` of this module: `pre_exec` runs its closure in the child between fork and
/// exec, where only async-signal-safe work is allowed (no allocation, no locks: another thread of
/// the parent may have held them at fork time).
#[allow(unsafe_code)]
fn die_with_parent(command: &mut Command, on_parent_death: Signal) {
    use std::os::unix::process::CommandExt;
    let parent = Pid::from_raw(std::process::id() as i32);
    // SAFETY: the closure makes two raw system calls (prctl(PR_SET_PDEATHSIG), getppid), which are
    // async-signal-safe, reads two `Copy` values captured by move, and builds an `io::Error` from
    // a raw errno, which does not allocate. It touches no memory shared with the parent.
    unsafe {
        command.pre_exec(move || {
            set_parent_process_death_signal(Some(on_parent_death)).map_err(io::Error::from)?;
            // The parent died before the signal was armed: the child was re-parented already.
            if getppid() != parent {
                return Err(io::Error::from_raw_os_error(rustix::io::Errno::SRCH.raw_os_error()));
            }
            Ok(())
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    fn gone(pid: u32, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            // Reaped, or a zombie waiting for its parent: not running either way.
            match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
                Err(_) => return true,
                Ok(stat)
                    if stat.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')) =>
                {
                    return true;
                }
                Ok(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        false
    }

    #[test]
    fn children_are_pinned_before_exec_while_pinning_is_on() {
        let all = affinity::get(0).unwrap();
        let last = Cpus::of(&all.as_slice()[all.as_slice().len() - 1..]);
        pin_children(Some(last.clone()));
        let mut sleeper = Command::new("sleep");
        sleeper.arg("5").stdin(Stdio::null());
        let child = spawn(sleeper, Signal::KILL);
        pin_children(None);
        let mut child = child.expect("spawn sleep");
        assert_eq!(affinity::get(child.id() as i32).unwrap(), last);
        assert_eq!(affinity::get(0).unwrap(), all, "this process keeps its own affinity");
        let _ = child.kill();
        let _ = child.wait();
    }

    #[test]
    fn signal_stops_a_child_and_rejects_pid_zero() {
        let mut sleeper = Command::new("sleep");
        sleeper.arg("30").stdin(Stdio::null());
        let mut child = spawn(sleeper, Signal::TERM).expect("spawn sleep");
        signal(child.id(), Signal::TERM).expect("SIGTERM");
        let status = child.wait().unwrap();
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(libc::SIGTERM));
        assert_eq!(signal(0, Signal::TERM).unwrap_err().kind(), io::ErrorKind::InvalidInput);
    }

    /// The child outlives the short-lived thread that asked for it (the parent-death signal is
    /// tied to the forking thread). That it dies with the process is tested on the real binary
    /// (`tests/orphans.rs`: `kill -9` of `serve` and of `compare`).
    #[test]
    fn a_child_survives_the_exit_of_the_thread_that_asked_for_it() {
        let child = std::thread::spawn(|| {
            let mut sleeper = Command::new("sleep");
            sleeper.arg("30").stdin(Stdio::null());
            spawn(sleeper, Signal::KILL).expect("spawn sleep")
        })
        .join()
        .unwrap();
        // Had the short-lived thread forked it, the parent-death signal would fire now.
        assert!(!gone(child.id(), Duration::from_millis(500)), "child died with the thread that asked");
        let mut child = child;
        child.kill().unwrap();
        child.wait().unwrap();
    }
}
