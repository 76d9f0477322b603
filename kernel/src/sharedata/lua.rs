//! `skynet.sharedata.core`: proxies over shared tables. A proxy remembers its table name and
//! key path; when its version is stale it walks the path again in the newest version.

use super::{store, Entry, Key, Table, Val};
use mlua::{AnyUserData, Lua, MetaMethod, UserData, UserDataMethods, Value};
use std::sync::Arc;

struct Proxy {
    name: String,
    path: Vec<Key>,
    entry: Arc<Entry>,
    node: Arc<Table>,
}

impl Proxy {
    fn fresh(&mut self) -> mlua::Result<&Arc<Table>> {
        if self.entry.is_stale() {
            let entry = store().get(&self.name).ok_or_else(|| {
                mlua::Error::runtime(format!("sharedata {} has been deleted", self.name))
            })?;
            let mut node = entry.root.clone();
            for k in &self.path {
                node = match node.get(k) {
                    Some(Val::Table(t)) => t.clone(),
                    // The subtree is gone in the new version: it reads as empty.
                    _ => Arc::new(Table::default()),
                };
            }
            self.entry = entry;
            self.node = node;
        }
        Ok(&self.node)
    }
}

fn to_key(v: &Value) -> mlua::Result<Option<Key>> {
    Ok(match v {
        Value::Integer(i) => Some(Key::Int(*i)),
        Value::Number(n) if n.fract() == 0.0 => Some(Key::Int(*n as i64)),
        Value::String(s) => Some(Key::Str(Arc::from(&s.as_bytes()[..]))),
        Value::Boolean(b) => Some(Key::Bool(*b)),
        _ => None,
    })
}

fn key_to_lua(lua: &Lua, k: &Key) -> mlua::Result<Value> {
    Ok(match k {
        Key::Int(i) => Value::Integer(*i),
        Key::Str(s) => Value::String(lua.create_string(&s[..])?),
        Key::Bool(b) => Value::Boolean(*b),
    })
}

fn val_to_lua(lua: &Lua, p: &Proxy, k: &Key, v: &Val) -> mlua::Result<Value> {
    Ok(match v {
        Val::Bool(b) => Value::Boolean(*b),
        Val::Int(i) => Value::Integer(*i),
        Val::Num(n) => Value::Number(*n),
        Val::Str(s) => Value::String(lua.create_string(&s[..])?),
        Val::Table(t) => {
            let mut path = p.path.clone();
            path.push(k.clone());
            Value::UserData(lua.create_userdata(Proxy {
                name: p.name.clone(),
                path,
                entry: p.entry.clone(),
                node: t.clone(),
            })?)
        }
    })
}

impl UserData for Proxy {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_meta_method_mut(MetaMethod::Index, |lua, this, k: Value| {
            let Some(key) = to_key(&k)? else {
                return Ok(Value::Nil);
            };
            let node = this.fresh()?.clone();
            match node.get(&key) {
                Some(v) => val_to_lua(lua, this, &key, v),
                None => Ok(Value::Nil),
            }
        });
        m.add_meta_method_mut(MetaMethod::Len, |_, this, ()| Ok(this.fresh()?.len));
        m.add_meta_method(
            MetaMethod::NewIndex,
            |_, this, _: mlua::MultiValue| -> mlua::Result<()> {
                Err(mlua::Error::runtime(format!(
                    "sharedata {} is read-only",
                    this.name
                )))
            },
        );
        m.add_meta_function(MetaMethod::Pairs, |lua, ud: AnyUserData| {
            let next = lua.create_function(|lua, (ud, k): (AnyUserData, Value)| {
                let mut this = ud.borrow_mut::<Proxy>()?;
                let node = this.fresh()?.clone();
                let pos = match to_key(&k)? {
                    None if k == Value::Nil => 0,
                    None => return Ok((Value::Nil, Value::Nil)),
                    Some(key) => match node.index.get(&key) {
                        Some(i) => i + 1,
                        None => return Err(mlua::Error::runtime("invalid key to 'next'")),
                    },
                };
                match node.entries.get(pos) {
                    Some((k, v)) => Ok((key_to_lua(lua, k)?, val_to_lua(lua, &this, k, v)?)),
                    None => Ok((Value::Nil, Value::Nil)),
                }
            })?;
            Ok((next, ud, Value::Nil))
        });
        m.add_meta_method(MetaMethod::ToString, |_, this, ()| {
            Ok(format!("sharedata: {}", this.name))
        });
    }
}

/// Convert a Lua table into a shared tree (strings, numbers, booleans and nested tables).
pub fn table_from_lua(t: &mlua::Table, depth: usize) -> mlua::Result<Table> {
    if depth > 64 {
        return Err(mlua::Error::runtime(
            "sharedata table nested too deep (or has a cycle)",
        ));
    }
    let mut entries = Vec::new();
    for pair in t.pairs::<Value, Value>() {
        let (k, v) = pair?;
        let key = to_key(&k)?.ok_or_else(|| {
            mlua::Error::runtime(format!(
                "sharedata key of type {} not allowed",
                k.type_name()
            ))
        })?;
        let val = match v {
            Value::Boolean(b) => Val::Bool(b),
            Value::Integer(i) => Val::Int(i),
            Value::Number(n) => Val::Num(n),
            Value::String(s) => Val::Str(Arc::from(&s.as_bytes()[..])),
            Value::Table(t) => Val::Table(Arc::new(table_from_lua(&t, depth + 1)?)),
            other => {
                return Err(mlua::Error::runtime(format!(
                    "sharedata value of type {} not allowed",
                    other.type_name()
                )))
            }
        };
        entries.push((key, val));
    }
    Ok(Table::from_entries(entries))
}

fn deepcopy(lua: &Lua, t: &Table) -> mlua::Result<mlua::Table> {
    let out = lua.create_table_with_capacity(t.len, t.entries.len().saturating_sub(t.len))?;
    for (k, v) in &t.entries {
        let lv = match v {
            Val::Bool(b) => Value::Boolean(*b),
            Val::Int(i) => Value::Integer(*i),
            Val::Num(n) => Value::Number(*n),
            Val::Str(s) => Value::String(lua.create_string(&s[..])?),
            Val::Table(t) => Value::Table(deepcopy(lua, t)?),
        };
        out.raw_set(key_to_lua(lua, k)?, lv)?;
    }
    Ok(out)
}

pub fn open(lua: &Lua) -> mlua::Result<mlua::Table> {
    let t = lua.create_table()?;
    let err = |e: super::ShareError| mlua::Error::runtime(e.to_string());
    t.set(
        "new",
        lua.create_function(move |_, (name, tbl): (String, mlua::Table)| {
            store()
                .new_table(&name, table_from_lua(&tbl, 0)?)
                .map_err(err)
        })?,
    )?;
    t.set(
        "update",
        lua.create_function(move |_, (name, tbl): (String, mlua::Table)| {
            store().update(&name, table_from_lua(&tbl, 0)?).map_err(err)
        })?,
    )?;
    t.set(
        "delete",
        lua.create_function(move |_, name: String| store().delete(&name).map_err(err))?,
    )?;
    t.set(
        "query",
        lua.create_function(|lua, name: String| {
            let entry = store()
                .get(&name)
                .ok_or_else(|| mlua::Error::runtime(format!("sharedata {name} not found")))?;
            let node = entry.root.clone();
            lua.create_userdata(Proxy {
                name,
                path: Vec::new(),
                entry,
                node,
            })
        })?,
    )?;
    t.set(
        "deepcopy",
        lua.create_function(|lua, (name, keys): (String, mlua::Variadic<Value>)| {
            let entry = store()
                .get(&name)
                .ok_or_else(|| mlua::Error::runtime(format!("sharedata {name} not found")))?;
            let mut node = entry.root.clone();
            for k in keys.iter() {
                let key = to_key(k)?.ok_or_else(|| mlua::Error::runtime("invalid key"))?;
                node = match node.get(&key) {
                    Some(Val::Table(t)) => t.clone(),
                    _ => return Ok(Value::Nil),
                };
            }
            Ok(Value::Table(deepcopy(lua, &node)?))
        })?,
    )?;
    Ok(t)
}
