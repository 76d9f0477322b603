//! Finding and loading Lua code. Compiled chunks are cached process-wide as bytecode (keyed by
//! path and modification time), so the thousandth service that requires `skynet` skips the
//! parser; a `require` searcher over `package.path` uses the same cache.

use mlua::chunk::ChunkMode;
use mlua::{Function, Lua};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

type Cache = Mutex<HashMap<PathBuf, (SystemTime, Arc<Vec<u8>>)>>;

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
/// The cached bytecode keeps its debug info (line tables, local names), framework modules
/// included, so tracebacks name the file and line of every frame.
pub fn load_file(lua: &Lua, path: &Path) -> mlua::Result<Function> {
    let chunkname = format!("@{}", path.display());
    let mtime = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .map_err(|e| mlua::Error::runtime(format!("cannot open {}: {e}", path.display())))?;
    let cached = cache()
        .lock()
        .get(path)
        .filter(|(t, _)| *t == mtime)
        .map(|(_, b)| b.clone());
    if let Some(code) = cached {
        return lua
            .load(&code[..])
            .set_name(chunkname)
            .set_mode(ChunkMode::Binary)
            .into_function();
    }
    let src = std::fs::read(path)
        .map_err(|e| mlua::Error::runtime(format!("cannot open {}: {e}", path.display())))?;
    let f = lua
        .load(&src[..])
        .set_name(chunkname.clone())
        .set_mode(ChunkMode::Text)
        .into_function()?;
    let code = Arc::new(f.dump(false));
    cache().lock().insert(path.to_path_buf(), (mtime, code));
    Ok(f)
}

/// Replace Lua's file searcher with one that goes through the cache. Preload stays first.
pub fn install_searcher(lua: &Lua) -> mlua::Result<()> {
    let searcher = lua.create_function(|lua, name: String| {
        let package: mlua::Table = lua.globals().get("package")?;
        let path: String = package.get("path")?;
        let file = name.replace('.', "/");
        match search(&path, &file) {
            Ok((p, _)) => {
                let f = load_file(lua, &p)?;
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
