//! Starting and stopping other OS processes from Lua (`require "cirrus.process"`): the locator
//! launches standby game nodes with a configured command and stops idle ones.
//!
//! Children run `sh -c CMD` in their own process group (a node started by `./start.sh` is a
//! shell plus the `cirrus` binary; a signal to the group reaches both). A reaper thread per
//! child waits for it, so finished nodes never linger as zombies and `status` can tell.

use mlua::{Lua, Table};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

#[derive(Clone, Debug, PartialEq)]
enum State {
    Running,
    /// exit code, or None when killed by a signal
    Exited(Option<i32>),
}

fn children() -> &'static Mutex<HashMap<u32, State>> {
    static C: OnceLock<Mutex<HashMap<u32, State>>> = OnceLock::new();
    C.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Start `sh -c cmd` with extra environment variables; output goes to `log` (appended; its
/// folder is created) or is discarded. Returns the child's pid.
pub fn spawn(cmd: &str, env: &[(String, String)], log: Option<&str>) -> Result<u32, String> {
    let out = match log {
        Some(path) => {
            if let Some(dir) = std::path::Path::new(path).parent() {
                if !dir.as_os_str().is_empty() {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| format!("spawn: log folder {}: {e}", dir.display()))?;
                }
            }
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| format!("spawn: log file {path}: {e}"))?;
            let e = f.try_clone().map_err(|e| format!("spawn: {e}"))?;
            (Stdio::from(f), Stdio::from(e))
        }
        None => (Stdio::null(), Stdio::null()),
    };
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(cmd)
        .stdin(Stdio::null())
        .stdout(out.0)
        .stderr(out.1)
        .process_group(0);
    for (k, v) in env {
        c.env(k, v);
    }
    let mut child = c.spawn().map_err(|e| format!("spawn `{cmd}`: {e}"))?;
    let pid = child.id();
    children().lock().insert(pid, State::Running);
    std::thread::Builder::new()
        .name(format!("cirrus-reap-{pid}"))
        .spawn(move || {
            let code = child.wait().ok().and_then(|s| s.code());
            children().lock().insert(pid, State::Exited(code));
        })
        .map_err(|e| format!("spawn: reaper thread: {e}"))?;
    Ok(pid)
}

/// "running", "exited" (with the code), or "unknown" for a pid this node did not start.
fn status(pid: u32) -> (&'static str, Option<i32>) {
    match children().lock().get(&pid) {
        Some(State::Running) => ("running", None),
        Some(State::Exited(code)) => ("exited", *code),
        None => ("unknown", None),
    }
}

/// Signal the child's process group (only children this node started).
fn kill(pid: u32, sig: i32) -> Result<bool, String> {
    if status(pid).0 != "running" {
        return Ok(false);
    }
    // SAFETY: plain syscall; the group id is the pid of a child we spawned with its own group.
    let r = unsafe { libc::kill(-(pid as i32), sig) };
    if r == 0 {
        Ok(true)
    } else {
        Err(format!("kill {pid}: {}", std::io::Error::last_os_error()))
    }
}

fn signal_number(name: &str) -> Option<i32> {
    Some(match name {
        "TERM" | "SIGTERM" => libc::SIGTERM,
        "KILL" | "SIGKILL" => libc::SIGKILL,
        "INT" | "SIGINT" => libc::SIGINT,
        "HUP" | "SIGHUP" => libc::SIGHUP,
        _ => return None,
    })
}

pub fn open(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    // spawn(cmd [, env_table [, logfile]]) -> pid
    t.set(
        "spawn",
        lua.create_function(
            |_, (cmd, env, log): (String, Option<Table>, Option<String>)| {
                let mut vars = Vec::new();
                if let Some(env) = env {
                    for kv in env.pairs::<String, mlua::Value>() {
                        let (k, v) = kv?;
                        let v = match v {
                            mlua::Value::String(s) => s.to_str()?.to_string(),
                            mlua::Value::Integer(i) => i.to_string(),
                            mlua::Value::Number(n) => n.to_string(),
                            other => {
                                return Err(mlua::Error::runtime(format!(
                                    "spawn: env {k} must be a string or number, got {}",
                                    other.type_name()
                                )))
                            }
                        };
                        vars.push((k, v));
                    }
                }
                spawn(&cmd, &vars, log.as_deref()).map_err(mlua::Error::runtime)
            },
        )?,
    )?;
    // status(pid) -> "running" | "exited", code | "unknown"
    t.set(
        "status",
        lua.create_function(|_, pid: u32| Ok(status(pid)))?,
    )?;
    // kill(pid [, "TERM"|"KILL"|"INT"|"HUP"]) -> true if signalled, false if not running
    t.set(
        "kill",
        lua.create_function(|_, (pid, sig): (u32, Option<String>)| {
            let name = sig.unwrap_or_else(|| "TERM".into());
            let sig = signal_number(&name)
                .ok_or_else(|| mlua::Error::runtime(format!("kill: unknown signal {name}")))?;
            kill(pid, sig).map_err(mlua::Error::runtime)
        })?,
    )?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn wait_exit(pid: u32) -> (&'static str, Option<i32>) {
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(5) {
            let s = status(pid);
            if s.0 == "exited" {
                return s;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        status(pid)
    }

    #[test]
    fn spawn_reports_exit_code_and_env() {
        let pid = spawn(
            "test \"$CIRRUS_X\" = hi && exit 7",
            &[("CIRRUS_X".into(), "hi".into())],
            None,
        )
        .unwrap();
        assert_eq!(wait_exit(pid), ("exited", Some(7)));
        assert_eq!(status(1), ("unknown", None));
    }

    #[test]
    fn kill_stops_the_group() {
        let pid = spawn("sleep 30", &[], None).unwrap();
        assert_eq!(status(pid).0, "running");
        assert!(kill(pid, libc::SIGTERM).unwrap());
        assert_eq!(wait_exit(pid), ("exited", None));
        assert!(!kill(pid, libc::SIGTERM).unwrap());
    }
}
