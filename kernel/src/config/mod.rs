//! Node configuration: a Lua-syntax file read the way skynet reads it. Every global the file
//! sets becomes an environment string (`skynet.getenv`); `$NAME` is replaced by the process
//! environment variable before the file runs, and `include "other.lua"` pulls in another file
//! relative to the current one.

use parking_lot::RwLock;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Lua(String),
    #[error("{file}: key `{key}`: {reason}")]
    Key {
        file: String,
        key: String,
        reason: String,
    },
    #[error("{0}: cannot read: {1}")]
    Io(String, std::io::Error),
}

/// Keys Cirrus reads itself.
const KNOWN: &[&str] = &[
    "thread",
    "start",
    "luaservice",
    "lua_path",
    "logger",
    "logpath",
    "harbor",
    "preload",
    "logservice",
    "console_port",
    "console_address",
    "metrics_port",
    "metrics_address",
    "cluster",
    "nodename",
    "root",
    "snax",
    "snax_interface_g",
    "snax_loader",
];

/// Keys meaningful to skynet that Cirrus accepts but does not act on, with the reason.
const IGNORED: &[(&str, &str)] = &[
    (
        "bootstrap",
        "Cirrus boots with its own service/bootstrap.lua",
    ),
    ("lualoader", "Cirrus loads Lua services natively"),
    ("cpath", "C services are native Rust in Cirrus"),
    ("lua_cpath", "C Lua modules are native Rust in Cirrus"),
    (
        "daemon",
        "run Cirrus under a supervisor instead of daemonizing",
    ),
    (
        "standalone",
        "harbor masters are replaced by the cluster module",
    ),
    (
        "master",
        "harbor masters are replaced by the cluster module",
    ),
    (
        "address",
        "harbor slaves are replaced by the cluster module",
    ),
    ("profile", "per-service CPU time is always recorded"),
];

const LOADER: &str = r#"
local config_name, getenv = ...
local result = {}
local sep = package.config:sub(1, 1)
local current = "." .. sep
local reading = "?"
local function subst(name)
    local v = getenv(name)
    if v == nil then error(reading .. ": environment variable $" .. name .. " is not set", 0) end
    return v
end
local function include(filename)
    local last = current
    local path, name = filename:match("(.*" .. sep .. ")(.*)$")
    if path then
        if path:sub(1, 1) == sep then current = path else current = current .. path end
    else
        name = filename
    end
    local f, err = io.open(current .. name)
    if not f then error("cannot open config " .. current .. name .. ": " .. tostring(err), 0) end
    local code = f:read("a")
    f:close()
    reading = current .. name
    code = code:gsub("%$([%w_]+)", subst)
    local chunk, perr = load(code, "@" .. current .. name, "t", result)
    if not chunk then error(perr, 0) end
    chunk()
    current = last
end
setmetatable(result, { __index = { include = include } })
include(config_name)
setmetatable(result, nil)
return result
"#;

/// Read a config file into key -> string, exactly the values `skynet.getenv` will return.
pub fn load_file(path: &Path) -> Result<BTreeMap<String, String>, ConfigError> {
    let file = path.display().to_string();
    if let Err(e) = std::fs::metadata(path) {
        return Err(ConfigError::Io(file, e));
    }
    let lua = mlua::Lua::new();
    let getenv = lua
        .create_function(|_, name: String| Ok(std::env::var(name).ok()))
        .map_err(|e| ConfigError::Lua(e.to_string()))?;
    let table: mlua::Table = lua
        .load(LOADER)
        .set_name("=config")
        .call((file.clone(), getenv))
        .map_err(|e| ConfigError::Lua(lua_error_text(&e)))?;
    let mut out = BTreeMap::new();
    for pair in table.pairs::<mlua::Value, mlua::Value>() {
        let (k, v) = pair.map_err(|e| ConfigError::Lua(e.to_string()))?;
        let key = match k {
            mlua::Value::String(s) => s.to_string_lossy(),
            other => {
                return Err(ConfigError::Key {
                    file,
                    key: format!("{other:?}"),
                    reason: "keys must be names".into(),
                })
            }
        };
        let val = match v {
            mlua::Value::String(s) => s.to_string_lossy(),
            mlua::Value::Integer(i) => i.to_string(),
            mlua::Value::Number(n) => n.to_string(),
            mlua::Value::Boolean(b) => b.to_string(),
            other => {
                return Err(ConfigError::Key {
                    file,
                    key,
                    reason: format!(
                        "a {} is not allowed (use a string, number or boolean)",
                        other.type_name()
                    ),
                })
            }
        };
        out.insert(key, val);
    }
    Ok(out)
}

/// The first line of a Lua error, without mlua's wrapping.
fn lua_error_text(e: &mlua::Error) -> String {
    match e {
        mlua::Error::CallbackError { cause, .. } => lua_error_text(cause),
        mlua::Error::RuntimeError(s) | mlua::Error::SyntaxError { message: s, .. } => {
            s.lines().next().unwrap_or_default().to_string()
        }
        other => other
            .to_string()
            .lines()
            .next()
            .unwrap_or_default()
            .to_string(),
    }
}

/// One-line notices for keys that mean something to skynet but nothing to Cirrus.
pub fn notices(cfg: &BTreeMap<String, String>) -> Vec<String> {
    let mut v = Vec::new();
    for (key, why) in IGNORED {
        if let Some(val) = cfg.get(*key) {
            if *key == "bootstrap" && val == "snlua bootstrap" {
                continue;
            }
            v.push(format!("config: `{key}` is ignored ({why})"));
        }
    }
    v
}

pub fn is_known(key: &str) -> bool {
    KNOWN.contains(&key) || IGNORED.iter().any(|(k, _)| *k == key)
}

/// The node's environment: config values plus whatever services `setenv`.
#[derive(Default)]
pub struct Env {
    map: RwLock<HashMap<String, String>>,
}

impl Env {
    pub fn from_map(m: BTreeMap<String, String>) -> Self {
        Env {
            map: RwLock::new(m.into_iter().collect()),
        }
    }
    pub fn get(&self, k: &str) -> Option<String> {
        self.map.read().get(k).cloned()
    }
    /// Set a key once; skynet refuses to overwrite an existing key.
    pub fn set(&self, k: &str, v: &str) -> bool {
        let mut m = self.map.write();
        if m.contains_key(k) {
            return false;
        }
        m.insert(k.to_string(), v.to_string());
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(dir: &Path, name: &str, body: &str) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::File::create(&p)
            .unwrap()
            .write_all(body.as_bytes())
            .unwrap();
        p
    }

    fn tmpdir(tag: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("cirrus-cfg-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn reads_values_env_and_include() {
        let d = tmpdir("ok");
        write(&d, "common.lua", "thread = 4\nharbor = 0\n");
        std::env::set_var("CIRRUS_CFG_TEST_ROOT", "/opt/game");
        let p = write(
            &d,
            "node.lua",
            "include \"common.lua\"\nroot = \"$CIRRUS_CFG_TEST_ROOT/\"\nstart = 'main'\ndaemon = false\nratio = 1.5\n",
        );
        let cfg = load_file(&p).unwrap();
        assert_eq!(cfg["thread"], "4");
        assert_eq!(cfg["root"], "/opt/game/");
        assert_eq!(cfg["start"], "main");
        assert_eq!(cfg["daemon"], "false");
        assert_eq!(cfg["ratio"], "1.5");
        assert!(notices(&cfg).iter().any(|n| n.contains("daemon")));
    }

    #[test]
    fn errors_name_file_line_or_key() {
        let d = tmpdir("bad");
        let p = write(&d, "bad.lua", "thread = 2\nstart = = 'x'\n");
        let e = load_file(&p).unwrap_err().to_string();
        assert!(e.contains("bad.lua:2"), "{e}");
        let p = write(&d, "tbl.lua", "thread = {1}\n");
        let e = load_file(&p).unwrap_err().to_string();
        assert!(e.contains("`thread`") && e.contains("table"), "{e}");
        let p = write(&d, "env.lua", "x = '$CIRRUS_SURELY_UNSET_VAR'\n");
        let e = load_file(&p).unwrap_err().to_string();
        assert!(e.contains("CIRRUS_SURELY_UNSET_VAR"), "{e}");
        let e = load_file(&d.join("missing.lua")).unwrap_err().to_string();
        assert!(e.contains("missing.lua"), "{e}");
    }
}
