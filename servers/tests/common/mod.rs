//! What several of the servers crate's test files share: a server built from `ServeArgs` and
//! served in-process on 127.0.0.1:0.

use std::net::SocketAddr;

use authbench_procs::redis_server::RedisServer;
use authbench_servers::serve::{self, ServeLimits};
use authbench_servers::{ServeArgs, build};
use tokio::sync::oneshot;

/// An in-process server; dropping it stops the server (and a redis-server it built for itself).
pub struct Running {
    pub addr: SocketAddr,
    _stop: oneshot::Sender<()>,
    _built_redis: Option<RedisServer>,
}

/// Build `args`' server and serve it on 127.0.0.1:0 with `limits`.
pub async fn start(args: &ServeArgs, limits: ServeLimits) -> Running {
    let mut built = build::build(args).await.expect("build server");
    let listener = serve::bind("127.0.0.1:0".parse().unwrap()).await.expect("bind");
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let router = std::mem::take(&mut built.router);
    tokio::spawn(serve::serve_with(
        listener,
        router,
        async move {
            let _ = stopped.await;
        },
        limits,
        None,
    ));
    Running { addr, _stop: stop, _built_redis: built.redis.take() }
}
