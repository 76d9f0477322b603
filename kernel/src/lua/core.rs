//! `skynet.core`: the Rust primitives under `lualib/skynet.lua` (send, sessions, commands,
//! serialization, the dispatch callback). Coroutine and call bookkeeping live in Lua, as in
//! skynet, where users can read them.

use super::ctx::LuaCtx;
use super::msgbuf::{read_with, with_bytes};
use super::seri;
use crate::node::node;
use crate::service::{fmt_handle, Handle, Message, PTYPE_TEXT};
use bytes::Bytes;
use mlua::{Function, LightUserData, Lua, MultiValue, Table, Value};
use std::rc::Rc;

/// Turn a Lua address (handle number, `:hex` or a name) into a handle; `None` if unknown.
pub fn to_handle(v: &Value) -> mlua::Result<Option<Handle>> {
    match v {
        Value::Integer(i) => Ok(Some(*i as Handle)),
        Value::Number(n) => Ok(Some(*n as Handle)),
        Value::String(s) => Ok(node().resolve(&s.to_str()?)),
        other => Err(mlua::Error::runtime(format!(
            "invalid address type {}",
            other.type_name()
        ))),
    }
}

fn opt_size(v: Option<Value>) -> mlua::Result<Option<usize>> {
    match v {
        None | Some(Value::Nil) => Ok(None),
        Some(Value::Integer(i)) if i >= 0 => Ok(Some(i as usize)),
        Some(Value::Number(n)) if n >= 0.0 => Ok(Some(n as usize)),
        Some(other) => Err(mlua::Error::runtime(format!(
            "invalid message size {other:?}"
        ))),
    }
}

/// Send to a local service. Unknown addresses return nil (skynet's contract: `skynet.call`
/// turns that into "call to invalid address").
fn do_send(
    ctx: &LuaCtx,
    dest: &Value,
    source: Handle,
    ptype: u8,
    session: Option<i32>,
    msg: &Value,
    sz: Option<usize>,
) -> mlua::Result<Option<i32>> {
    let data = read_with(Some(ctx), msg, sz, true)?;
    let Some(h) = to_handle(dest)? else {
        return Ok(None);
    };
    let session = match session {
        Some(s) => s,
        None => ctx.genid(),
    };
    match ctx.dest(h) {
        Some(slot) => {
            node().deliver(&slot, Message::new(source, session, ptype, data));
            Ok(Some(session))
        }
        None => Ok(None),
    }
}

fn int_arg(v: &Value, what: &str) -> mlua::Result<i64> {
    match v {
        Value::Integer(i) => Ok(*i),
        Value::Number(n) => Ok(*n as i64),
        other => Err(mlua::Error::runtime(format!(
            "{what} must be a number, got {}",
            other.type_name()
        ))),
    }
}

/// Concatenate values with spaces using Lua's tostring rules, as `skynet.error` does.
fn join_tostring(lua: &Lua, args: &MultiValue) -> mlua::Result<Vec<u8>> {
    join_with(lua, args, b' ')
}

/// Lua's `print`, writing each line with one write so lines of services printing at once on
/// different workers never interleave.
pub fn print(lua: &Lua, args: MultiValue) -> mlua::Result<()> {
    use std::io::Write;
    let mut line = join_with(lua, &args, b'\t')?;
    line.push(b'\n');
    let mut out = std::io::stdout().lock();
    out.write_all(&line)
        .and_then(|_| out.flush())
        .map_err(mlua::Error::external)
}

fn join_with(lua: &Lua, args: &MultiValue, sep: u8) -> mlua::Result<Vec<u8>> {
    let tostring: Function = lua.globals().get("tostring")?;
    let mut out = Vec::new();
    for (i, v) in args.iter().enumerate() {
        if i > 0 {
            out.push(sep);
        }
        match v {
            Value::String(s) => out.extend_from_slice(&s.as_bytes()),
            other => {
                let s: mlua::LuaString = tostring.call(other.clone())?;
                out.extend_from_slice(&s.as_bytes());
            }
        }
    }
    Ok(out)
}

/// Write a line to the logger service as `source`.
pub fn log(source: Handle, text: impl Into<Bytes>) {
    let n = node();
    let logger = n.logger();
    let data = text.into();
    if logger == 0
        || n.send_log(Message::new(source, 0, PTYPE_TEXT, data.clone()), logger)
            .is_err()
    {
        crate::logger::write_line(source, &data);
    }
}

pub fn open(lua: &Lua, ctx: Rc<LuaCtx>) -> mlua::Result<Table> {
    let t = lua.create_table_with_capacity(0, 24)?;
    super::fast::install(lua, &t, Rc::as_ptr(&ctx))?;
    // The rest are made on first use: a service uses a few of them, and each costs a closure
    // and its userdata (and instructions on the spawn path) in every state.
    let meta = lua.create_table()?;
    meta.raw_set(
        "__index",
        lua.create_function(move |lua, (t, key): (Table, Value)| {
            let f = match &key {
                Value::String(name) => make(lua, &ctx, &name.to_str()?)?,
                _ => None,
            };
            let Some(f) = f else { return Ok(Value::Nil) };
            t.raw_set(key, &f)?;
            Ok(Value::Function(f))
        })?,
    )?;
    t.set_metatable(Some(meta))?;
    Ok(t)
}

/// The `skynet.core` function called `name` (besides fast.rs's), made for this service.
fn make(lua: &Lua, ctx: &Rc<LuaCtx>, name: &str) -> mlua::Result<Option<Function>> {
    let me = ctx.handle;
    let c = ctx.clone();
    Ok(Some(match name {
        // send, timeout and unpack are C functions only (fast.rs), and so are sendpack and
        // pack; these mlua versions of the two are what they fall back to for tables with
        // `__pairs` (whose iterator is Lua code).
        "sendpack_lua" => lua.create_function(move |_, mut args: MultiValue| {
            let dest = args.pop_front().unwrap_or(Value::Nil);
            let ptype = match args.pop_front() {
                Some(Value::Integer(i)) => i as u8,
                other => return Err(mlua::Error::runtime(format!("bad protocol id {other:?}"))),
            };
            let session = match args.pop_front() {
                Some(Value::Integer(i)) => Some(i as i32),
                _ => None,
            };
            let data = Bytes::from(seri::pack(&args)?);
            let Some(h) = to_handle(&dest)? else {
                return Ok(None);
            };
            let session = session.unwrap_or_else(|| c.genid());
            match c.dest(h) {
                Some(slot) => {
                    node().deliver(&slot, Message::new(c.handle, session, ptype, data));
                    Ok(Some(session))
                }
                None => Ok(None),
            }
        })?,
        "redirect" => lua.create_function(
            move |_,
                  (dest, source, ptype, session, msg, sz): (
                Value,
                Value,
                u8,
                i32,
                Value,
                Option<Value>,
            )| {
                let src = to_handle(&source)?.unwrap_or(0);
                do_send(&c, &dest, src, ptype, Some(session), &msg, opt_size(sz)?)
            },
        )?,
        "genid" => lua.create_function(move |_, ()| Ok(c.genid()))?,
        "callback" => lua.create_function(move |_, (f, _forward): (Function, Option<bool>)| {
            *c.callback.borrow_mut() = Some(f);
            c.callback_version
                .set(c.callback_version.get().wrapping_add(1));
            Ok(())
        })?,
        "exithook" => lua.create_function(move |_, f: Option<Function>| {
            *c.exit_hook.borrow_mut() = f;
            Ok(())
        })?,
        "memlimit" => lua.create_function(move |lua, bytes: usize| {
            lua.set_memory_limit(bytes)?;
            log(
                me,
                format!(
                    "Set memory limit to {:.2} M",
                    bytes as f64 / (1024.0 * 1024.0)
                ),
            );
            Ok(())
        })?,
        "now" => lua.create_function(|_, ()| Ok(node().now_cs() as i64))?,
        "hpc" => lua.create_function(|_, ()| Ok(node().elapsed().as_nanos() as i64))?,
        // CPU time of the calling worker thread, in seconds (skynet.profile counts this).
        "thread_time" => lua.create_function(|_, ()| {
            let mut ts = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            // SAFETY: clock_gettime writes the timespec we own.
            unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
            Ok(ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9)
        })?,
        "self" => lua.create_function(move |_, ()| Ok(me))?,
        "harbor" => lua.create_function(|_, addr: Value| {
            let h = to_handle(&addr)?.unwrap_or(0);
            let n = node();
            Ok(((h >> 24) as i64, !n.registry.is_local(h)))
        })?,
        "error" => lua.create_function(move |lua, args: MultiValue| {
            log(me, join_tostring(lua, &args)?);
            Ok(())
        })?,
        "tostring" => lua.create_function(move |lua, (msg, sz): (Value, Option<Value>)| {
            with_bytes(&c, &msg, opt_size(sz)?, |b| lua.create_string(b))
        })?,
        "pack_lua" => lua.create_function(move |_, args: MultiValue| {
            let buf = seri::pack(&args)?;
            let len = buf.len();
            if len == 0 {
                return Ok((LightUserData(std::ptr::null_mut()), 0));
            }
            let p = c.hold_packed(Bytes::from(buf));
            Ok((LightUserData(p as *mut _), len))
        })?,
        "packstring" => {
            lua.create_function(|lua, args: MultiValue| lua.create_string(seri::pack(&args)?))?
        }
        "trash" => lua.create_function(move |_, (msg, sz): (Value, Option<Value>)| {
            if let Value::LightUserData(_) = msg {
                let _ = read_with(Some(&c), &msg, opt_size(sz)?, true);
            }
            Ok(())
        })?,
        "command" => lua.create_function(move |_, (cmd, param): (String, Option<Value>)| {
            let p = param_string(param)?;
            command(&c, &cmd, p.as_deref()).map_err(mlua::Error::runtime)
        })?,
        "intcommand" => {
            lua.create_function(move |lua, (cmd, param): (String, Option<Value>)| {
                if cmd == "TIMEOUT" {
                    let ti = int_arg(&param.unwrap_or(Value::Integer(0)), "timeout")?;
                    let session = c.genid();
                    node().timer.timeout(c.handle, ti, session);
                    return Ok(Value::Integer(session as i64));
                }
                let p = param_string(param)?;
                let r = command(&c, &cmd, p.as_deref()).map_err(mlua::Error::runtime)?;
                Ok(match r {
                    None => Value::Nil,
                    Some(s) => match s.parse::<i64>() {
                        Ok(i) => Value::Integer(i),
                        Err(_) => s
                            .parse::<f64>()
                            .map(Value::Number)
                            .unwrap_or(Value::String(lua.create_string(&s)?)),
                    },
                })
            })?
        }
        "addresscommand" => {
            lua.create_function(move |_, (cmd, param): (String, Option<Value>)| {
                let p = param_string(param)?;
                let r = command(&c, &cmd, p.as_deref()).map_err(mlua::Error::runtime)?;
                Ok(r.and_then(|s| {
                    s.strip_prefix(':')
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                }))
            })?
        }
        "nodename" => lua.create_function(|_, ()| {
            Ok(node()
                .env
                .get("nodename")
                .unwrap_or_else(|| format!("node{}", node().harbor)))
        })?,
        _ => return Ok(None),
    }))
}

fn param_string(v: Option<Value>) -> mlua::Result<Option<String>> {
    Ok(match v {
        None | Some(Value::Nil) => None,
        Some(Value::String(s)) => Some(s.to_str()?.to_string()),
        Some(Value::Integer(i)) => Some(i.to_string()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(other) => {
            return Err(mlua::Error::runtime(format!(
                "invalid command parameter {}",
                other.type_name()
            )))
        }
    })
}

/// skynet's text commands (REG, NAME, QUERY, EXIT, KILL, LAUNCH, GETENV, SETENV, STAT, ...).
fn command(ctx: &LuaCtx, cmd: &str, param: Option<&str>) -> Result<Option<String>, String> {
    let n = node();
    let me = ctx.handle;
    match cmd {
        "REG" => match param {
            None | Some("") => Ok(Some(fmt_handle(me))),
            // `.name` is local; a global name (no dot) is node-wide here, as in a standalone
            // skynet node (harbor 0). Across a cluster, names go through cluster.register.
            Some(name) => {
                n.registry.bind_name(name, me).map_err(|e| e.to_string())?;
                Ok(Some(name.to_string()))
            }
        },
        "NAME" => {
            let p = param.ok_or("NAME needs `.name :address`")?;
            let mut it = p.split_whitespace();
            let (name, addr) = (
                it.next().ok_or("NAME needs a name")?,
                it.next().ok_or("NAME needs an address")?,
            );
            let h = n
                .resolve(addr)
                .ok_or_else(|| format!("invalid address {addr}"))?;
            n.registry.bind_name(name, h).map_err(|e| e.to_string())?;
            Ok(Some(name.to_string()))
        }
        "QUERY" => {
            let name = param.ok_or("QUERY needs a name")?;
            Ok(n.registry.find_name(name).map(fmt_handle))
        }
        "EXIT" => {
            log(me, "KILL self");
            ctx.exit.set(true);
            Ok(None)
        }
        "KILL" => {
            let addr = param.ok_or("KILL needs an address")?;
            match n.resolve(addr) {
                Some(h) if h == me => {
                    log(me, "KILL self");
                    ctx.exit.set(true);
                    Ok(None)
                }
                Some(h) => {
                    if n.kill(h) {
                        log(me, format!("KILL :{h:x}"));
                    }
                    Ok(None)
                }
                None => Ok(None),
            }
        }
        "LAUNCH" => {
            let p = param.ok_or("LAUNCH needs a module")?;
            let (module, args) = p.split_once(' ').unwrap_or((p, ""));
            match crate::lifecycle::launch(module, args) {
                Ok(h) => Ok(Some(fmt_handle(h))),
                Err(e) => {
                    log(me, format!("launch {p} failed: {e:#}"));
                    Ok(None)
                }
            }
        }
        "GETENV" => Ok(n.env.get(param.unwrap_or(""))),
        "SETENV" => {
            let p = param.ok_or("SETENV needs `key value`")?;
            let (k, v) = p.split_once(' ').unwrap_or((p, ""));
            if n.env.set(k, v) {
                Ok(None)
            } else {
                Err(format!("can't setenv existing key {k}"))
            }
        }
        "STARTTIME" => Ok(Some(n.start_time().to_string())),
        "NOW" => Ok(Some(n.now_cs().to_string())),
        "ABORT" => {
            n.shutdown(param.and_then(|p| p.parse().ok()).unwrap_or(0));
            Ok(None)
        }
        "ENDLESS" | "STAT" | "MQLEN" => {
            let slot = n.registry.get(me).ok_or("service retired")?;
            let what = if cmd == "STAT" {
                param.unwrap_or("")
            } else {
                cmd
            };
            let s = &slot.stats;
            use std::sync::atomic::Ordering::Relaxed;
            Ok(Some(match what {
                "mqlen" | "MQLEN" => slot.mqlen().to_string(),
                "endless" | "ENDLESS" => {
                    let e = s.endless.swap(false, Relaxed);
                    if cmd == "ENDLESS" && !e {
                        return Ok(None);
                    }
                    (e as i32).to_string()
                }
                "cpu" => format!("{}", s.cpu_ns.load(Relaxed) as f64 / 1e9),
                // seconds spent in the message being handled now
                "time" => format!(
                    "{:.6}",
                    ctx.dispatch_start
                        .get()
                        .map_or(0.0, |t| t.elapsed().as_secs_f64())
                ),
                "message" => s.messages.load(Relaxed).to_string(),
                "memory" => s.memory.load(Relaxed).to_string(),
                other => return Err(format!("unknown stat {other}")),
            }))
        }
        other => Err(format!("unknown command {other}")),
    }
}

/// Call the per-service callback with one message.
#[inline]
pub fn call_callback(
    cb: &Function,
    ptype: u8,
    ptr: *const u8,
    sz: usize,
    session: i32,
    source: Handle,
) -> mlua::Result<()> {
    let p = if sz == 0 {
        std::ptr::null_mut()
    } else {
        ptr as *mut _
    };
    cb.call::<()>((ptype, LightUserData(p), sz, session, source))
}
