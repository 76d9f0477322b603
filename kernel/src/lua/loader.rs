//! Finding and loading Lua code. Compiled chunks are cached process-wide as bytecode (keyed by
//! path), so the thousandth service that requires `skynet` skips the parser; a `require`
//! searcher over `package.path` uses the same cache.
//!
//! As in skynet's code cache, a file is read once: editing it on disk changes nothing for the
//! services launched afterwards until the console's `reload NAME` ([`reload`]) recompiles the
//! service and every cached file, and swaps the cache only when all of them compile. A
//! half-written or broken file on a live node therefore never reaches a new service.

use mlua::chunk::ChunkMode;
use mlua::{Function, Lua};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// Bytecode of one file, stripped of debug info or not. Everything keeps its debug info today
/// (framework modules too) so that tracebacks show file:line (docs/LUA.md).
#[derive(Clone)]
struct Entry {
    code: Arc<Vec<u8>>,
    strip: bool,
}

type Cache = Mutex<HashMap<PathBuf, Entry>>;

fn cache() -> &'static Cache {
    static C: OnceLock<Cache> = OnceLock::new();
    C.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Expand a `;`-separated pattern list (`service/?.lua;service/?/main.lua`) for `name`,
/// returning the first existing file and the pattern it came from.
pub fn search(patterns: &str, name: &str) -> Result<(PathBuf, String), String> {
    let mut tried = String::new();
    for pat in patterns.split(';').filter(|p| !p.is_empty()) {
        let candidate = pat.replace('?', name);
        if Path::new(&candidate).is_file() {
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
    let cached = cache().lock().get(path).map(|e| e.code.clone());
    let code = match cached {
        Some(code) => code,
        None => {
            let code = Arc::new(compile(lua, path, &read(path)?, strip)?);
            // Two services loading the same file at once: the first one in wins, so every
            // state runs the same bytes.
            cache()
                .lock()
                .entry(path.to_path_buf())
                .or_insert(Entry { code, strip })
                .code
                .clone()
        }
    };
    lua.load(&code[..])
        .set_name(chunkname(path))
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
                if old.get(&p).map(|e| &e.code[..]) != Some(&code[..]) {
                    changed.push(p.clone());
                }
                fresh.insert(
                    p,
                    Entry {
                        code: Arc::new(code),
                        strip,
                    },
                );
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
    *cache().lock() = fresh;
    Ok(Reloaded {
        path,
        files,
        changed,
    })
}

/// Replace Lua's file searcher with one that goes through the cache. Preload stays first.
pub fn install_searcher(lua: &Lua) -> mlua::Result<()> {
    let searcher = lua.create_function(|lua, name: String| {
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
    Ok(t)
}
