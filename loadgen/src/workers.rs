//! The generator's worker threads: one single-threaded tokio runtime per core, like wrk's one
//! event loop per thread. A virtual user lives on one worker for its whole life (its socket, its
//! timer and its histogram shard are that worker's), so the request loop never crosses threads
//! and nothing is stolen or woken remotely. The run's orchestration (ramp controller, collector,
//! sampling) stays on the caller's runtime.

use std::thread::JoinHandle;
use std::time::Duration;

use tokio::runtime::{Builder, Handle};
use tokio::sync::oneshot;

pub struct Workers {
    handles: Vec<Handle>,
    stops: Vec<oneshot::Sender<()>>,
    threads: Vec<JoinHandle<()>>,
}

impl Workers {
    /// Start `n` worker threads (at least one).
    pub fn start(n: usize) -> std::io::Result<Workers> {
        let mut w = Workers { handles: Vec::new(), stops: Vec::new(), threads: Vec::new() };
        for i in 0..n.max(1) {
            let rt = Builder::new_current_thread().enable_all().build()?;
            let (stop, stopped) = oneshot::channel::<()>();
            w.handles.push(rt.handle().clone());
            w.stops.push(stop);
            w.threads.push(std::thread::Builder::new().name(format!("authbench-vu-{i}")).spawn(
                move || {
                    rt.block_on(async {
                        let _ = stopped.await;
                    });
                    rt.shutdown_timeout(Duration::from_millis(200));
                },
            )?);
        }
        Ok(w)
    }

    pub fn len(&self) -> usize {
        self.handles.len()
    }

    /// The runtime of worker `i % len`.
    pub fn handle(&self, i: usize) -> &Handle {
        &self.handles[i % self.handles.len()]
    }

    pub fn handles(&self) -> &[Handle] {
        &self.handles
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        for stop in self.stops.drain(..) {
            let _ = stop.send(());
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}
