//! The node: the process-wide kernel that owns the registry, scheduler, timer, environment and
//! IO runtime. Reached through [`node()`] from services, IO tasks and native code alike.

use crate::config::Env;
use crate::scheduler::Scheduler;
use crate::service::{fmt_handle, Actor, Handle, Message, Pushed, Registry, Slot, PTYPE_ERROR};
use crate::timer::Timer;
use bytes::Bytes;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

static NODE: OnceLock<Node> = OnceLock::new();

/// The running node. Panics if called before [`Node::install`] (a programming error).
pub fn node() -> &'static Node {
    NODE.get().expect("cirrus node not started")
}

pub fn try_node() -> Option<&'static Node> {
    NODE.get()
}

/// Where Lua code comes from, resolved once from the config.
#[derive(Clone, Debug)]
pub struct LuaPaths {
    pub lua_path: String,
    pub luaservice: String,
    pub preload: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("no service at {0}")]
    NotFound(String),
}

pub struct Node {
    pub env: Env,
    pub registry: Registry,
    pub scheduler: Scheduler,
    pub timer: Timer,
    pub paths: LuaPaths,
    pub harbor: u8,
    start: Instant,
    start_time: u64,
    rt: tokio::runtime::Runtime,
    logger: AtomicU32,
    quit: AtomicBool,
    exit_code: AtomicI32,
}

impl Node {
    pub fn install(
        env: Env,
        paths: LuaPaths,
        threads: usize,
        harbor: u8,
    ) -> anyhow::Result<&'static Node> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads.clamp(1, 4))
            .thread_name("cirrus-io")
            .enable_all()
            .build()?;
        let start_time = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let n = Node {
            env,
            registry: Registry::new(harbor),
            scheduler: Scheduler::new(threads),
            timer: Timer::new(),
            paths,
            harbor,
            start: Instant::now(),
            start_time,
            rt,
            logger: AtomicU32::new(0),
            quit: AtomicBool::new(false),
            exit_code: AtomicI32::new(0),
        };
        NODE.set(n)
            .map_err(|_| anyhow::anyhow!("node already installed"))?;
        Ok(node())
    }

    /// The tokio runtime that owns sockets, Redis, SQL and other IO.
    pub fn io(&self) -> &tokio::runtime::Handle {
        self.rt.handle()
    }

    /// Centiseconds since the node started (`skynet.now()`).
    pub fn now_cs(&self) -> u64 {
        self.timer.now_tick()
    }

    pub fn start_time(&self) -> u64 {
        self.start_time
    }

    pub fn elapsed(&self) -> std::time::Duration {
        self.start.elapsed()
    }

    pub fn set_logger(&self, h: Handle) {
        self.logger.store(h, Ordering::Release)
    }

    pub fn logger(&self) -> Handle {
        self.logger.load(Ordering::Acquire)
    }

    /// Register a new service around `build` and return its slot. The service has no mail yet.
    pub fn spawn(&self, label: String, build: impl FnOnce(Handle) -> Box<dyn Actor>) -> Arc<Slot> {
        self.registry
            .insert_with(|h| Arc::new(Slot::new(h, label, build(h))))
    }

    /// Deliver a message to a local service. A retired mailbox bounces requests back as errors.
    pub fn send(&self, msg: Message, dest: Handle) -> Result<(), SendError> {
        match self.registry.get(dest) {
            Some(slot) => {
                self.deliver(&slot, msg);
                Ok(())
            }
            None => Err(SendError::NotFound(fmt_handle(dest))),
        }
    }

    /// Send and, if the destination is unknown, fail the sender's call instead of dropping it.
    pub fn send_or_bounce(&self, msg: Message, dest: Handle) {
        if let Err(e) = self.send(msg.clone(), dest) {
            self.bounce(&msg, &e.to_string());
        }
    }

    /// Deliver a log line to the logger: like `send`, but the logger is put on the shared run
    /// queue, so it prints even while the logging service keeps its worker busy.
    pub fn send_log(&self, msg: Message, logger: Handle) -> Result<(), SendError> {
        let slot = self
            .registry
            .get(logger)
            .ok_or_else(|| SendError::NotFound(fmt_handle(logger)))?;
        match slot.push(msg) {
            Ok(Pushed::Schedule) | Ok(Pushed::Overload(_, true)) => {
                self.scheduler.schedule_shared(slot)
            }
            Ok(_) => {}
            Err(msg) => self.bounce(&msg, &format!("service {} has exited", slot.address())),
        }
        Ok(())
    }

    pub fn deliver(&self, slot: &Arc<Slot>, msg: Message) {
        match slot.push(msg) {
            Ok(Pushed::Schedule) => self.scheduler.schedule(slot.clone()),
            Ok(Pushed::Queued) => {}
            Ok(Pushed::Overload(len, schedule)) => {
                // skynet's line, logged as the overloaded service
                crate::lua::core::log(
                    slot.handle,
                    format!("error: May overload, message queue length = {len}"),
                );
                if schedule {
                    self.scheduler.schedule(slot.clone());
                }
            }
            Err(msg) => self.bounce(&msg, &format!("service {} has exited", slot.address())),
        }
    }

    /// Fail the sender of an undeliverable request with PTYPE_ERROR carrying `reason`.
    pub fn bounce(&self, msg: &Message, reason: &str) {
        if msg.expects_reply() && msg.source != 0 {
            let err = Message::new(
                0,
                msg.session,
                PTYPE_ERROR,
                Bytes::copy_from_slice(reason.as_bytes()),
            );
            // The caller may be gone too; nothing further to tell then.
            if let Some(slot) = self.registry.get(msg.source) {
                self.deliver(&slot, err);
            }
        }
    }

    /// Resolve `.name`, `:hex` or a bare name to a handle.
    pub fn resolve(&self, addr: &str) -> Option<Handle> {
        if let Some(hex) = addr.strip_prefix(':') {
            return u32::from_str_radix(hex, 16).ok();
        }
        self.registry.find_name(addr)
    }

    /// Kill a service from outside: names vanish now; the worker fails its pending callers and
    /// retires it at the next turn.
    pub fn kill(&self, h: Handle) -> bool {
        match self.registry.remove(h) {
            Some(slot) => {
                slot.mark_killed();
                if slot.poke() {
                    self.scheduler.schedule(slot);
                }
                true
            }
            None => false,
        }
    }

    /// Remove a service for good and bounce everything left in its mailbox.
    pub fn retire(&self, slot: &Arc<Slot>, actor: Option<Box<dyn Actor>>) {
        self.registry.remove(slot.handle);
        let left = slot.close();
        let reason = format!("service {} has exited", slot.address());
        for m in left.iter() {
            self.bounce(m, &reason);
        }
        drop(actor);
        crate::lifecycle::flow::forget_service(slot.handle);
        tracing::debug!(service = %slot.address(), "retired");
    }

    pub fn is_quitting(&self) -> bool {
        self.quit.load(Ordering::Acquire)
    }

    /// Stop the node: workers finish their current message and the process exits with `code`.
    pub fn shutdown(&self, code: i32) {
        self.exit_code.store(code, Ordering::Release);
        // Parked workers poll the flag every 50 ms.
        self.quit.store(true, Ordering::Release);
    }

    pub fn exit_code(&self) -> i32 {
        self.exit_code.load(Ordering::Acquire)
    }
}
