//! Graceful shutdown (SIGTERM, SIGINT or console `shutdown`):
//! 1. no new flow opens (`flow.run` raises "node shutting down");
//! 2. intake stops: the gate tier (`.watchdog`) closes its listeners and kicks every client
//!    with reason 3 "maintenance";
//! 3. the open flows finish;
//! 4. every Lua service runs its `skynet.onshutdown` hooks;
//! 5. SQL pools and Redis connections are closed, the node leaves discovery and exits 0.
//!
//! Past `shutdown_timeout` (30 s) or on a second signal: the flows still open are logged and
//! the node exits 3.

use super::flow;
use crate::lua::seri::Writer;
use crate::node::node;
use crate::service::port::{Port, PortActor};
use crate::service::{fmt_handle, Handle, PTYPE_DEBUG, PTYPE_LUA};
use bytes::Bytes;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Exit code of a shutdown that could not finish its flows (timeout or second signal).
pub const EXIT_FLOWS_OPEN: i32 = 3;

static STARTED: AtomicBool = AtomicBool::new(false);

/// Has a graceful shutdown begun?
pub fn started() -> bool {
    STARTED.load(Ordering::Acquire)
}

/// Take the node's one stop (shutdown or freeze); false if one has begun already.
pub(crate) fn claim() -> bool {
    !STARTED.swap(true, Ordering::AcqRel)
}

/// Begin the graceful shutdown (`why`: "SIGTERM", "console"...). A second request while one
/// runs stops the node at once with exit code 3, logging the flows still open.
pub fn request(why: &str) {
    if !claim() {
        tracing::warn!("{why} during shutdown: stopping now");
        log_open_flows();
        node().shutdown(EXIT_FLOWS_OPEN);
        return;
    }
    let why = why.to_string();
    node().io().spawn(async move { run(&why).await });
}

fn log_open_flows() {
    for (h, name, n, age) in flow::open() {
        tracing::error!(
            service = %fmt_handle(h),
            flow = %name,
            count = n,
            "flow still open at exit: {name} x{n} in {} (oldest {:.1} s)",
            fmt_handle(h),
            age.as_secs_f64()
        );
    }
}

pub(crate) fn timeout_setting() -> Duration {
    let secs = node()
        .env
        .get("shutdown_timeout")
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|s| *s >= 0.0)
        .unwrap_or(30.0);
    Duration::from_secs_f64(secs)
}

pub(crate) fn port() -> Arc<Port> {
    let p = Port::new();
    let p2 = p.clone();
    node().spawn("shutdown".into(), move |h| {
        p2.bind(h);
        Box::new(PortActor(p2))
    });
    p
}

pub(crate) fn lua_cmd(cmd: &str) -> Bytes {
    let mut w = Writer::new();
    w.string(cmd.as_bytes());
    Bytes::from(w.finish())
}

/// Stop intake on the gate tier of this node, if it has one: listeners closed, clients kicked
/// with reason 3.
pub(crate) async fn stop_gate_tier(port: &Port, deadline: Instant) {
    if let Some(wd) = node().resolve(".watchdog") {
        let left = deadline.saturating_duration_since(Instant::now());
        match port
            .call(
                wd,
                PTYPE_LUA,
                lua_cmd("shutdown"),
                left.min(Duration::from_secs(10)),
            )
            .await
        {
            Ok(_) => tracing::info!(service = %fmt_handle(wd), "gate tier closed, clients kicked"),
            Err(e) => tracing::warn!(service = %fmt_handle(wd), "gate tier shutdown: {e}"),
        }
    }
}

/// Wait for the open flows. False if the node must stop now: past the deadline (the flows
/// are logged and the exit code set to 3) or stopped by a second signal.
pub(crate) async fn wait_flows(deadline: Instant, timeout: Duration) -> bool {
    let n = node();
    let mut last_report = Instant::now();
    loop {
        let left = flow::total();
        if left == 0 {
            return true;
        }
        if n.is_quitting() {
            return false; // a second signal stopped the node
        }
        if Instant::now() >= deadline {
            tracing::error!(
                "shutdown_timeout ({:.0} s) passed with {left} flows open: exit {EXIT_FLOWS_OPEN}",
                timeout.as_secs_f64()
            );
            log_open_flows();
            n.shutdown(EXIT_FLOWS_OPEN);
            return false;
        }
        if last_report.elapsed() >= Duration::from_secs(5) {
            last_report = Instant::now();
            tracing::info!("shutdown: waiting for {left} open flows");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn run(why: &str) {
    let n = node();
    let timeout = timeout_setting();
    let deadline = Instant::now() + timeout;
    let open = flow::close_intake(false);
    tracing::info!(
        "{why}: shutting down: new flows refused, {open} open, shutdown_timeout {:.0} s",
        timeout.as_secs_f64()
    );
    let port = port();
    stop_gate_tier(&port, deadline).await;
    if !wait_flows(deadline, timeout).await {
        return;
    }
    tracing::info!("shutdown: no flow open, running onshutdown hooks");
    // Every Lua service runs its skynet.onshutdown hooks, all at once.
    let services: Vec<Handle> = n
        .registry
        .all()
        .into_iter()
        .filter(|s| s.label.starts_with("snlua"))
        .map(|s| s.handle)
        .collect();
    let left = deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_secs(1));
    let calls = services.iter().map(|&h| {
        let port = port.clone();
        async move {
            (
                h,
                port.call(h, PTYPE_DEBUG, lua_cmd("SHUTDOWN"), left).await,
            )
        }
    });
    let mut late = 0;
    for (h, r) in futures_util::future::join_all(calls).await {
        match r {
            Ok(_) => {}
            // A service that exited meanwhile has nothing left to flush.
            Err(e) if e.contains("exited") || e.contains("no service") => {}
            Err(e) if e.contains("timed out") => {
                late += 1;
                tracing::error!(service = %fmt_handle(h), "onshutdown hooks did not finish: {e}");
            }
            Err(e) => tracing::warn!(service = %fmt_handle(h), "onshutdown hooks: {e}"),
        }
    }
    if n.is_quitting() {
        return;
    }
    let (pools, links) = crate::store::close_all().await;
    tracing::info!("shutdown: {pools} SQL pools and {links} Redis connections closed");
    if late > 0 {
        tracing::error!("{late} services did not finish their onshutdown hooks before shutdown_timeout: exit {EXIT_FLOWS_OPEN}");
        n.shutdown(EXIT_FLOWS_OPEN);
    } else {
        tracing::info!("shutdown complete: exit 0");
        n.shutdown(0);
    }
}
