//! Per-service state shared by the `skynet.core` functions of one Lua state.

use crate::service::{Handle, Slot};
use bytes::Bytes;
use mlua::Function;
use std::cell::{Cell, RefCell};
use std::sync::Arc;

/// Packed buffers not yet sent are kept here so a `(pointer, size)` pair from `skynet.pack`
/// can be checked before use. A service that packs without sending only keeps the newest few.
const MAX_PENDING_PACKED: usize = 64;
/// Recently used destinations, so a hot send skips the shared registry lock.
const DEST_CACHE: usize = 16;

pub struct LuaCtx {
    pub handle: Handle,
    session: Cell<i32>,
    /// The message being dispatched right now; lightuserdata handed to Lua points into it.
    pub(crate) current: RefCell<Bytes>,
    packed: RefCell<Vec<Bytes>>,
    pub(crate) callback: RefCell<Option<Function>>,
    pub(crate) callback_version: Cell<u32>,
    pub(crate) exit_hook: RefCell<Option<Function>>,
    pub(crate) exit: Cell<bool>,
    /// When the message being dispatched started (skynet.stat "time").
    pub(crate) dispatch_start: Cell<Option<std::time::Instant>>,
    dests: RefCell<[Option<Arc<Slot>>; DEST_CACHE]>,
}

impl LuaCtx {
    pub fn new(handle: Handle) -> Self {
        LuaCtx {
            handle,
            session: Cell::new(0),
            current: RefCell::new(Bytes::new()),
            packed: RefCell::new(Vec::new()),
            callback: RefCell::new(None),
            callback_version: Cell::new(0),
            exit_hook: RefCell::new(None),
            exit: Cell::new(false),
            dispatch_start: Cell::new(None),
            dests: RefCell::new(Default::default()),
        }
    }

    /// A new session id: positive, wrapping like skynet's.
    pub fn genid(&self) -> i32 {
        let mut s = self.session.get().wrapping_add(1);
        if s <= 0 {
            s = 1;
        }
        self.session.set(s);
        s
    }

    /// The live slot for a destination, from the cache or the registry.
    pub fn dest(&self, h: Handle) -> Option<Arc<Slot>> {
        let i = h as usize % DEST_CACHE;
        let mut cache = self.dests.borrow_mut();
        if let Some(s) = &cache[i] {
            if s.handle == h && !s.is_closed() {
                return Some(s.clone());
            }
        }
        let s = crate::node::node().registry.get(h)?;
        cache[i] = Some(s.clone());
        Some(s)
    }

    /// Keep a freshly packed buffer until it is sent or trashed; returns its address.
    pub fn hold_packed(&self, b: Bytes) -> *const u8 {
        let p = b.as_ptr();
        let mut v = self.packed.borrow_mut();
        if v.len() >= MAX_PENDING_PACKED {
            v.remove(0);
        }
        v.push(b);
        p
    }

    /// Run `f` on the bytes a `(pointer, size)` pair names without cloning the buffer.
    pub fn with_slice<R>(&self, p: *const u8, sz: usize, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        {
            let cur = self.current.borrow();
            if cur.as_ptr() == p && sz <= cur.len() {
                return Some(f(&cur[..sz]));
            }
        }
        let v = self.packed.borrow();
        let b = v.iter().rev().find(|b| b.as_ptr() == p && sz <= b.len())?;
        Some(f(&b[..sz]))
    }

    /// Find the buffer a `(pointer, size)` pair names: the current message or a packed one.
    /// `take` removes a packed buffer (ownership passes to the send).
    pub fn find(&self, p: *const u8, sz: usize, take: bool) -> Option<Bytes> {
        {
            let cur = self.current.borrow();
            if cur.as_ptr() == p && sz <= cur.len() {
                return Some(cur.slice(..sz));
            }
        }
        let mut v = self.packed.borrow_mut();
        let i = v.iter().rposition(|b| b.as_ptr() == p && sz <= b.len())?;
        if take {
            let b = v.swap_remove(i);
            Some(b.slice(..sz))
        } else {
            Some(v[i].slice(..sz))
        }
    }
}
