//! `skynet.stm`: a value one service writes and others read without messages. The writer
//! (`stm.new(msg, sz)`, then `writer(msg, sz)` to replace the value) holds a shared object;
//! `stm.copy(writer)` gives a token to send to another service, which turns it into a reader
//! with `stm.newcopy(token)`. `reader(f, ud)` returns `false` when the value has not changed
//! since its last read, else `true, f(msg, sz, ud)` (msg as a string). When the writer goes
//! (its service exits), the value goes with it: readers then read `false`, as on skynet.

use crate::lua::msgbuf;
use bytes::Bytes;
use mlua::{Lua, MultiValue, UserData, UserDataMethods, Value};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

struct Object {
    /// (version, value); the version grows on every update; no value once the writer is gone
    value: Mutex<(u64, Option<Bytes>)>,
}

/// Tokens handed out by `copy` and not yet claimed by `newcopy`: token -> (object, count).
type Pending = Mutex<HashMap<u64, (Arc<Object>, usize)>>;

fn pending() -> &'static Pending {
    static P: OnceLock<Pending> = OnceLock::new();
    P.get_or_init(|| Mutex::new(HashMap::new()))
}

fn next_token() -> u64 {
    static N: AtomicU64 = AtomicU64::new(1);
    N.fetch_add(1, Ordering::Relaxed)
}

struct Writer {
    obj: Arc<Object>,
    token: u64,
}

struct Reader {
    obj: Arc<Object>,
    last: Option<u64>,
}

fn message(lua: &Lua, msg: &Value, sz: Option<Value>) -> mlua::Result<Bytes> {
    let sz = match sz {
        Some(Value::Integer(n)) => Some(n as usize),
        Some(Value::Number(n)) => Some(n as usize),
        _ => None,
    };
    msgbuf::take(lua, msg, sz)
}

impl Drop for Writer {
    fn drop(&mut self) {
        let mut v = self.obj.value.lock();
        v.0 += 1;
        v.1 = None;
    }
}

impl UserData for Writer {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        // writer(msg, sz): the new value
        methods.add_meta_method(
            mlua::MetaMethod::Call,
            |lua, this, (msg, sz): (Value, Option<Value>)| {
                let data = message(lua, &msg, sz)?;
                let mut v = this.obj.value.lock();
                v.0 += 1;
                v.1 = Some(data);
                Ok(())
            },
        );
    }
}

impl UserData for Reader {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_meta_method_mut(
            mlua::MetaMethod::Call,
            |lua, this, (f, ud): (mlua::Function, Value)| {
                let (version, data) = {
                    let v = this.obj.value.lock();
                    (v.0, v.1.clone())
                };
                if this.last == Some(version) {
                    return Ok(MultiValue::from_vec(vec![Value::Boolean(false)]));
                }
                this.last = Some(version);
                let Some(data) = data else {
                    return Ok(MultiValue::from_vec(vec![Value::Boolean(false)]));
                };
                let len = data.len();
                let s = lua.create_string(&data[..])?;
                let mut out: Vec<Value> = f.call::<MultiValue>((s, len, ud))?.into_iter().collect();
                out.insert(0, Value::Boolean(true));
                Ok(MultiValue::from_vec(out))
            },
        );
    }
}

pub fn open(lua: &Lua) -> mlua::Result<mlua::Table> {
    let t = lua.create_table()?;
    t.set(
        "new",
        lua.create_function(|lua, (msg, sz): (Value, Option<Value>)| {
            let data = message(lua, &msg, sz)?;
            Ok(Writer {
                obj: Arc::new(Object {
                    value: Mutex::new((1, Some(data))),
                }),
                token: next_token(),
            })
        })?,
    )?;
    // copy(writer) -> token (an integer) for stm.newcopy in another service
    t.set(
        "copy",
        lua.create_function(|_, w: mlua::UserDataRef<Writer>| {
            let mut p = pending().lock();
            let e = p.entry(w.token).or_insert_with(|| (w.obj.clone(), 0));
            e.1 += 1;
            Ok(w.token as i64)
        })?,
    )?;
    t.set(
        "newcopy",
        lua.create_function(|_, token: i64| {
            let mut p = pending().lock();
            let token = token as u64;
            let Some(e) = p.get_mut(&token) else {
                return Err(mlua::Error::runtime(format!(
                    "stm.newcopy: {token} is not a copy (or was used already)"
                )));
            };
            let obj = e.0.clone();
            e.1 -= 1;
            if e.1 == 0 {
                p.remove(&token);
            }
            Ok(Reader { obj, last: None })
        })?,
    )?;
    Ok(t)
}
