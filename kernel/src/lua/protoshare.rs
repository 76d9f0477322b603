//! Function prototypes shared by every Lua state of the process (Lua 5.5; vendor/README.md).
//!
//! A code cache state, created once and never closed, loads each cached chunk once;
//! `cirrus_sharefunction` then makes its prototypes and every string they reference immortal
//! and shared, and a service gets its copy of the chunk as a closure over those prototypes
//! (`cirrus_clonefunction`): the per-state cost of loaded code drops to closures and upvalues.
//! Short strings that appear in shared code are the same objects in every state that was
//! created after they were shared; a state that made its own copy of such a string earlier
//! cannot use the shared prototypes that reference it, and loads that chunk the ordinary way
//! (still from the shared immortal bytecode, as a fixed buffer). [`counts`] tells how often
//! each happened.
//!
//! On Lua 5.4 (stock Lua) nothing is shared: [`share`] returns `None`.

use std::sync::atomic::{AtomicUsize, Ordering};

/// A chunk loaded and shared in the code cache state. Immortal and immutable.
#[derive(Clone, Copy)]
pub struct Chunk(#[cfg_attr(not(feature = "lua55"), allow(dead_code))] *const std::ffi::c_void);

// SAFETY: the pointee is never written or freed after `cirrus_sharefunction` returned it, and
// the mutex or OnceLock that hands it to another thread orders that write before the reads.
unsafe impl Send for Chunk {}
unsafe impl Sync for Chunk {}

static CLONED: AtomicUsize = AtomicUsize::new(0);
static LOADED: AtomicUsize = AtomicUsize::new(0);

/// How many chunk loads were closures over shared prototypes, and how many loaded the
/// bytecode into the state because it owned a string the chunk shares (see the module doc).
pub fn counts() -> (usize, usize) {
    (
        CLONED.load(Ordering::Relaxed),
        LOADED.load(Ordering::Relaxed),
    )
}

#[cfg(feature = "lua55")]
mod imp {
    use super::Chunk;
    use mlua::ffi::lua_State;
    use parking_lot::Mutex;
    use std::ffi::{c_int, c_void, CString};
    use std::sync::OnceLock;

    extern "C-unwind" {
        fn cirrus_newcodecache() -> *mut lua_State;
        fn cirrus_sharefunction(l: *mut lua_State, idx: c_int) -> *const c_void;
        fn cirrus_clonefunction(l: *mut lua_State, chunk: *const c_void) -> c_int;
        fn cirrus_isshared(l: *mut lua_State, idx: c_int) -> c_int;
        fn cirrus_sharedcount(nstrings: *mut usize, nprotos: *mut usize);
        fn cirrus_gcrestart(l: *mut lua_State);
    }

    struct CodeCache(*mut lua_State);
    // SAFETY: the code cache state is only used under its mutex.
    unsafe impl Send for CodeCache {}

    static C: OnceLock<Option<Mutex<CodeCache>>> = OnceLock::new();

    fn codecache() -> Option<&'static Mutex<CodeCache>> {
        C.get_or_init(|| new_codecache(&[])).as_ref()
    }

    fn new_codecache(names: &[&str]) -> Option<Mutex<CodeCache>> {
        // SAFETY: creates a fresh state owned by the cell for the rest of the process.
        let l = unsafe { cirrus_newcodecache() };
        if l.is_null() {
            tracing::warn!("no Lua code cache state: every service loads its own code");
            return None;
        }
        let cache = Mutex::new(CodeCache(l));
        if !names.is_empty() {
            // A chunk whose constants are `names`, shared like any other: the strings are
            // then the same objects in every state.
            let list: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
            let src = format!("return {{{}}}", list.join(","));
            let _ = load_shared(&cache.lock(), src.as_bytes(), "=(shared names)", c"t");
        }
        Some(cache)
    }

    fn load_shared(
        cache: &CodeCache,
        code: &[u8],
        name: &str,
        mode: &std::ffi::CStr,
    ) -> Option<Chunk> {
        let l = cache.0;
        let cname = CString::new(name).ok()?;
        // SAFETY: `l` is the code cache state, used under its lock; lua_load is protected.
        // In mode "B" `code` must be immortal (prototypes keep pointers into it).
        unsafe {
            let status = mlua::ffi::luaL_loadbufferx(
                l,
                code.as_ptr() as *const std::ffi::c_char,
                code.len(),
                cname.as_ptr(),
                mode.as_ptr(),
            );
            let chunk = if status == mlua::ffi::LUA_OK {
                cirrus_sharefunction(l, -1)
            } else {
                std::ptr::null()
            };
            mlua::ffi::lua_settop(l, 0);
            (!chunk.is_null()).then_some(Chunk(chunk))
        }
    }

    pub fn prepare(names: &[&str]) {
        C.get_or_init(|| new_codecache(names));
    }

    pub fn share(code: &'static [u8], name: &str) -> Option<Chunk> {
        load_shared(&codecache()?.lock(), code, name, c"B")
    }

    /// # Safety
    /// `l` is a Lua 5.5 state with a free stack slot, used by this thread only.
    pub unsafe fn clone(l: *mut lua_State, chunk: Chunk) -> bool {
        cirrus_clonefunction(l, chunk.0) != 0
    }

    /// # Safety
    /// `l` is a Lua 5.5 state used by this thread only; `idx` a valid stack index.
    pub unsafe fn is_shared(l: *mut lua_State, idx: c_int) -> bool {
        cirrus_isshared(l, idx) != 0
    }

    pub fn shared_count() -> (usize, usize) {
        let (mut s, mut p) = (0, 0);
        // SAFETY: writes the two counters.
        unsafe { cirrus_sharedcount(&mut s, &mut p) };
        (s, p)
    }

    pub fn gc_restart(lua: &mlua::Lua) {
        // SAFETY: sets two fields of the state's collector; pushes nothing, raises nothing.
        if unsafe { lua.exec_raw::<()>((), |l| cirrus_gcrestart(l)) }.is_err() {
            // Only the protected call itself can fail (memory): a collector left stopped
            // would never free this service's garbage, so restart it the plain way.
            lua.gc_restart();
        }
    }
}

#[cfg(not(feature = "lua55"))]
mod imp {
    use super::Chunk;

    pub fn prepare(_names: &[&str]) {}

    pub fn share(_code: &'static [u8], _name: &str) -> Option<Chunk> {
        None
    }

    pub fn shared_count() -> (usize, usize) {
        (0, 0)
    }

    pub fn gc_restart(lua: &mlua::Lua) {
        lua.gc_restart();
    }
}

/// Create the code cache state now, before the first service state: the strings it shares
/// (library names, metamethod names, reserved words, and `names`: those the host sets in every
/// state before its code loads) are then the same objects in every service state. Only the
/// first call does anything.
pub fn prepare(names: &[&str]) {
    imp::prepare(names)
}

/// Restart a collector stopped while a service loaded, its next cycle a pause away (Lua 5.5:
/// as if a cycle had just found the loaded heap live; 5.4: at once, as LUA_GCRESTART).
pub fn gc_restart(lua: &mlua::Lua) {
    imp::gc_restart(lua)
}

/// Load `code` once in the code cache state and share its prototypes.
pub fn share(code: &'static [u8], name: &str) -> Option<Chunk> {
    imp::share(code, name)
}

/// Push a closure over the shared `chunk` on `l`'s stack; false (nothing pushed) if `l`
/// owns a string the chunk shares, and the caller must load the bytecode instead.
///
/// # Safety
/// `l` is a Lua 5.5 state with a free stack slot, used by this thread only.
#[cfg(feature = "lua55")]
pub unsafe fn clone(l: *mut mlua::ffi::lua_State, chunk: Chunk) -> bool {
    let ok = imp::clone(l, chunk);
    if ok { &CLONED } else { &LOADED }.fetch_add(1, Ordering::Relaxed);
    ok
}

/// Whether the value at `idx` is a shared string or a Lua function over a shared prototype.
///
/// # Safety
/// `l` is a Lua 5.5 state used by this thread only; `idx` a valid stack index.
#[cfg(feature = "lua55")]
pub unsafe fn is_shared(l: *mut mlua::ffi::lua_State, idx: std::ffi::c_int) -> bool {
    imp::is_shared(l, idx)
}

/// Short strings and prototypes shared so far in the process.
pub fn shared_count() -> (usize, usize) {
    imp::shared_count()
}
