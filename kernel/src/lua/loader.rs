//! Finding and loading Lua code. Compiled chunks are cached process-wide as bytecode (keyed by
//! path), so the thousandth service that requires `skynet` skips the parser; a `require`
//! searcher over `package.path` uses the same cache.
//!
//! The cached bytecode is immortal and 8-byte aligned. On Lua 5.5 (our patched Lua,
//! vendor/README.md) each file is also loaded once into a process-wide code cache state and
//! its prototypes shared ([`super::protoshare`]): a service gets a closure over them, so its
//! code costs it a closure and an upvalue, not prototypes, constants and strings. A state that
//! cannot use a chunk's shared prototypes (it owned one of the chunk's strings before they were
//! shared) loads the bytecode as a "fixed buffer" (`lua_load` mode `B`): the instructions,
//! line info and long strings of each prototype then point into the one shared copy. Bytecode
//! and shared prototypes replaced by `reload` stay allocated, since running states may still
//! execute them; a reload therefore costs the size of the code it recompiled, once.
//!
//! As in skynet's code cache, a file is read once: editing it on disk changes nothing for the
//! services launched afterwards until the console's `reload NAME` ([`reload`]) recompiles the
//! service and every cached file, and swaps the cache only when all of them compile. A
//! half-written or broken file on a live node therefore never reaches a new service.

use super::protoshare as shared;
use mlua::chunk::ChunkMode;
use mlua::{Function, Lua};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Bytecode of one file, stripped of debug info or not. Everything keeps its debug info today
/// (framework modules too) so that tracebacks show file:line (docs/LUA.md).
#[derive(Clone)]
struct Entry {
    code: Code,
    strip: bool,
    /// The chunk loaded once in the shared code cache (Lua 5.5), if that worked.
    #[cfg_attr(not(feature = "lua55"), allow(dead_code))]
    shared: Option<shared::Chunk>,
}

impl Entry {
    fn new(code: Code, strip: bool, name: &str) -> Entry {
        Entry {
            code,
            strip,
            shared: shared::share(code, name),
        }
    }
}

/// Bytecode that lives as long as the process, aligned for Lua's fixed-buffer loader.
type Code = &'static [u8];

fn immortal(bytes: Vec<u8>) -> Code {
    let words = bytes.len().div_ceil(8);
    let mut buf = vec![0u64; words].into_boxed_slice();
    // SAFETY: `buf` holds at least `bytes.len()` bytes; u64 storage only provides alignment.
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf.as_mut_ptr() as *mut u8, bytes.len());
        std::slice::from_raw_parts(Box::leak(buf).as_ptr() as *const u8, bytes.len())
    }
}

type Cache = Mutex<HashMap<PathBuf, Entry>>;

fn cache() -> &'static Cache {
    static C: OnceLock<Cache> = OnceLock::new();
    C.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Expand a `;`-separated pattern list (`service/?.lua;service/?/main.lua`) for `name`,
/// returning the first existing file and the pattern it came from. A file in the code cache
/// counts as existing without asking the file system (as in skynet's code cache, it is read
/// once; `reload` forgets the deleted ones), so a spawn's searches cost no `stat` for the
/// files it finds.
pub fn search(patterns: &str, name: &str) -> Result<(PathBuf, String), String> {
    let mut tried = String::new();
    for pat in patterns.split(';').filter(|p| !p.is_empty()) {
        let candidate = pat.replace('?', name);
        let path = Path::new(&candidate);
        if cache().lock().contains_key(path) || path.is_file() {
            return Ok((PathBuf::from(candidate), pat.to_string()));
        }
        tried.push_str("\n\tno file '");
        tried.push_str(&candidate);
        tried.push('\'');
    }
    Err(tried)
}

/// Load a Lua file as a function, through the bytecode cache.
pub fn load_file(lua: &Lua, path: &Path) -> mlua::Result<Function> {
    load_file_with(lua, path, false)
}

fn chunkname(path: &Path) -> String {
    format!("@{}", path.display())
}

fn read(path: &Path) -> mlua::Result<Vec<u8>> {
    std::fs::read(path)
        .map_err(|e| mlua::Error::runtime(format!("cannot open {}: {e}", path.display())))
}

/// Compile a file's source to bytecode in `lua` (any state: bytecode is state-independent).
fn compile(lua: &Lua, path: &Path, src: &[u8], strip: bool) -> mlua::Result<Vec<u8>> {
    let f = lua
        .load(src)
        .set_name(chunkname(path))
        .set_mode(ChunkMode::Text)
        .into_function()?;
    Ok(f.dump(strip))
}

fn load_file_with(lua: &Lua, path: &Path, strip: bool) -> mlua::Result<Function> {
    let cached = cache().lock().get(path).cloned();
    let entry = match cached {
        Some(entry) => entry,
        None => {
            let name = chunkname(path);
            // Compiled in a state of its own: the parser makes a string for every name in the
            // file, and in `lua` they would be strings of its own equal to the shared ones,
            // which would keep it off the shared prototypes (see protoshare).
            let scratch = Lua::new_with(mlua::StdLib::NONE, mlua::LuaOptions::new())?;
            let code = compile(&scratch, path, &read(path)?, strip)?;
            drop(scratch);
            let entry = Entry::new(immortal(code), strip, &name);
            // Two services loading the same file at once: the first one in wins, so every
            // state runs the same bytes.
            cache()
                .lock()
                .entry(path.to_path_buf())
                .or_insert(entry)
                .clone()
        }
    };
    load_code(lua, &entry, &chunkname(path))
}

/// Load a cached chunk: on Lua 5.5 a closure over its shared prototypes, or if that cannot be
/// (see [`shared`]) the bytecode loaded without copying it (see the module comment).
#[cfg(feature = "lua55")]
fn load_code(lua: &Lua, entry: &Entry, name: &str) -> mlua::Result<Function> {
    use mlua::ffi;
    let cname = std::ffi::CString::new(name).map_err(mlua::Error::external)?;
    let code = entry.code;
    let chunk = entry.shared;
    // SAFETY: `code` and the shared chunk are immortal, so prototypes may point into them for
    // as long as any state lives; both calls run inside mlua's protected call and leave one
    // value (cirrus_clonefunction pushes nothing when it returns 0).
    unsafe {
        lua.exec_raw::<Function>((), |state| {
            if let Some(chunk) = chunk {
                if shared::clone(state, chunk) {
                    return;
                }
            }
            let status = ffi::luaL_loadbufferx(
                state,
                code.as_ptr() as *const std::ffi::c_char,
                code.len(),
                cname.as_ptr(),
                c"B".as_ptr(),
            );
            if status != ffi::LUA_OK {
                ffi::lua_error(state);
            }
        })
    }
}

#[cfg(not(feature = "lua55"))]
fn load_code(lua: &Lua, entry: &Entry, name: &str) -> mlua::Result<Function> {
    lua.load(entry.code)
        .set_name(name)
        .set_mode(ChunkMode::Binary)
        .into_function()
}

/// What [`reload`] did.
#[derive(Debug)]
pub struct Reloaded {
    /// The service's main file.
    pub path: PathBuf,
    /// Files recompiled (the service's file and everything that was cached).
    pub files: usize,
    /// Files whose bytecode differs from what was cached (not cached before counts as changed).
    pub changed: Vec<PathBuf>,
}

/// Console `reload NAME`: recompile the service `name` (found on `luaservice`) and every
/// cached file from disk. If all compile, the cache is replaced by the fresh code and services
/// launched from now on run it; if any fails, nothing changes and the errors are returned.
/// Running services are not touched (that is `hotfix`).
pub fn reload(luaservice: &str, name: &str) -> Result<Reloaded, String> {
    let (path, _) = search(luaservice, name)
        .map_err(|tried| format!("no service {name} on luaservice:{tried}"))?;
    let old: HashMap<PathBuf, Entry> = cache().lock().clone();
    let mut files: Vec<(PathBuf, bool)> = old.iter().map(|(p, e)| (p.clone(), e.strip)).collect();
    if !old.contains_key(&path) {
        files.push((path.clone(), false));
    }
    files.sort();
    let lua = Lua::new();
    let mut fresh = HashMap::new();
    let mut errors = Vec::new();
    let mut changed = Vec::new();
    for (p, strip) in files {
        if !p.is_file() && p != path {
            // A module that was deleted: forget it; a later require reports it missing.
            continue;
        }
        match read(&p).and_then(|src| compile(&lua, &p, &src, strip)) {
            Ok(code) => {
                // Unchanged files keep their bytecode; only new code is allocated (and
                // only once everything compiled, below).
                let code = match old.get(&p) {
                    Some(e) if e.code == &code[..] => Ok(e.clone()),
                    _ => {
                        changed.push(p.clone());
                        Err(code)
                    }
                };
                fresh.insert(p, (code, strip));
            }
            Err(e) => errors.push(super::error_text(&e)),
        }
    }
    if !errors.is_empty() {
        return Err(format!(
            "reload {name}: nothing changed, {} file(s) do not compile:\n{}",
            errors.len(),
            errors.join("\n")
        ));
    }
    let files = fresh.len();
    let fresh = fresh
        .into_iter()
        .map(
            |(p, (code, strip)): (PathBuf, (Result<Entry, Vec<u8>>, bool))| {
                // Changed code gets new shared prototypes; the old ones stay (running services
                // may execute them).
                let entry =
                    code.unwrap_or_else(|code| Entry::new(immortal(code), strip, &chunkname(&p)));
                (p, entry)
            },
        )
        .collect();
    *cache().lock() = fresh;
    Ok(Reloaded {
        path,
        files,
        changed,
    })
}

/// Replace Lua's file searcher with one that finds the native modules (the host's, such as
/// `skynet.core`; they come before files of the same name) and then files, through the
/// cache. Preload stays first.
pub fn install_searcher(lua: &Lua) -> mlua::Result<()> {
    let searcher = lua.create_function(|lua, name: String| {
        if let Some(open) = super::native_module(&name) {
            let loader = lua.create_function(move |lua, ()| open(lua))?;
            return Ok((
                mlua::Value::Function(loader),
                mlua::Value::String(lua.create_string(":native:")?),
            ));
        }
        let package: mlua::Table = lua.globals().get("package")?;
        let path: String = package.get("path")?;
        let file = name.replace('.', "/");
        match search(&path, &file) {
            Ok((p, _)) => {
                let f = load_file_with(lua, &p, false)?;
                Ok((
                    mlua::Value::Function(f),
                    mlua::Value::String(lua.create_string(p.to_string_lossy().as_bytes())?),
                ))
            }
            Err(tried) => Ok((
                mlua::Value::String(lua.create_string(tried)?),
                mlua::Value::Nil,
            )),
        }
    })?;
    let package: mlua::Table = lua.globals().get("package")?;
    let searchers: mlua::Table = package.get("searchers")?;
    searchers.raw_set(2, searcher)?;
    Ok(())
}

/// `require "cirrus.code"`: what the hotfix module needs from the host. `realpath(p)` is the
/// canonical absolute path of an existing file, or nil and the error.
pub fn open_code(lua: &Lua) -> mlua::Result<mlua::Table> {
    let t = lua.create_table()?;
    t.set(
        "realpath",
        lua.create_function(|lua, p: String| match std::fs::canonicalize(&p) {
            Ok(r) => Ok((
                mlua::Value::String(lua.create_string(r.to_string_lossy().as_bytes())?),
                mlua::Value::Nil,
            )),
            Err(e) => Ok((
                mlua::Value::Nil,
                mlua::Value::String(lua.create_string(format!("{p}: {e}"))?),
            )),
        })?,
    )?;
    // `isshared(v)`: whether v is a string or Lua function shared between states (Lua 5.5).
    t.set(
        "isshared",
        lua.create_function(|lua, v: mlua::Value| is_shared(lua, v))?,
    )?;
    // `sharing()`: chunk loads that used shared prototypes, loads that could not, and the
    // short strings and prototypes shared in the process.
    t.set(
        "sharing",
        lua.create_function(|_, ()| {
            let (cloned, loaded) = shared::counts();
            let (strings, protos) = shared::shared_count();
            Ok((cloned, loaded, strings, protos))
        })?,
    )?;
    Ok(t)
}

#[cfg(feature = "lua55")]
fn is_shared(lua: &Lua, v: mlua::Value) -> mlua::Result<bool> {
    // SAFETY: the value is pushed on the state's own stack and checked in place.
    unsafe {
        lua.exec_raw::<bool>(v, |state| {
            let r = shared::is_shared(state, -1);
            mlua::ffi::lua_settop(state, 0);
            mlua::ffi::lua_pushboolean(state, r as std::ffi::c_int);
        })
    }
}

#[cfg(not(feature = "lua55"))]
fn is_shared(_lua: &Lua, _v: mlua::Value) -> mlua::Result<bool> {
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_finds_cached_files_without_the_file_system_and_new_ones_before_them() {
        let dir = std::env::temp_dir().join(format!("cirrus-search-{}", std::process::id()));
        let (first, second) = (dir.join("a"), dir.join("b"));
        std::fs::create_dir_all(&first).unwrap();
        std::fs::create_dir_all(&second).unwrap();
        let patterns = format!("{}/?.lua;{}/?.lua", first.display(), second.display());
        let file = second.join("svc.lua");
        std::fs::write(&file, "return 42").unwrap();
        let (found, _) = search(&patterns, "svc").unwrap();
        assert_eq!(found, file);
        let lua = Lua::new();
        assert_eq!(
            load_file(&lua, &found).unwrap().call::<i64>(()).unwrap(),
            42
        );
        // Loaded once, it is found (and runs from the cache) with the file gone, as in skynet.
        std::fs::remove_file(&file).unwrap();
        assert_eq!(search(&patterns, "svc").unwrap().0, file);
        assert_eq!(load_file(&lua, &file).unwrap().call::<i64>(()).unwrap(), 42);
        // A file that appears earlier on the path is still found first.
        let earlier = first.join("svc.lua");
        std::fs::write(&earlier, "return 7").unwrap();
        assert_eq!(search(&patterns, "svc").unwrap().0, earlier);
        // Never loaded and gone: not found, with every file tried.
        std::fs::remove_file(&earlier).unwrap();
        let tried = search(&patterns, "other").unwrap_err();
        assert!(
            tried.contains("a/other.lua") && tried.contains("b/other.lua"),
            "{tried}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
