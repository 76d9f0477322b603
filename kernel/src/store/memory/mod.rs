//! The in-process online store: a process-wide keyspace that speaks a subset of Redis with
//! Redis's replies and error texts, so `lualib/store.lua` behaves the same on either backend
//! and the all-in-one node needs no server. Calls are synchronous (a mutex, no IO); pub/sub
//! messages reach subscribers through the same queue type as Redis watches.

pub mod glob;
pub mod lua;

use crate::store::redis::watch::Event;
use bytes::Bytes;
use parking_lot::Mutex;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedSender;

pub use lua::open;

/// A command result, shaped like a RESP reply.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    Nil,
    Int(i64),
    Bulk(Bytes),
    Status(&'static str),
    Array(Vec<Reply>),
    Error(String),
}

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const NOT_INT: &str = "ERR value is not an integer or out of range";
const SWEEP_EVERY: Duration = Duration::from_secs(1);

fn err(s: &str) -> Reply {
    Reply::Error(s.to_string())
}

fn arity(name: &str) -> Reply {
    Reply::Error(format!(
        "ERR wrong number of arguments for '{name}' command"
    ))
}

fn int_reply(b: bool) -> Reply {
    Reply::Int(b as i64)
}

fn bulk_array<'a>(items: impl Iterator<Item = &'a Bytes>) -> Reply {
    Reply::Array(items.map(|b| Reply::Bulk(b.clone())).collect())
}

fn parse_int(b: &[u8]) -> Option<i64> {
    std::str::from_utf8(b).ok()?.parse().ok()
}

enum Data {
    Str(Bytes),
    Hash(HashMap<Bytes, Bytes>),
    Set(HashSet<Bytes>),
    List(VecDeque<Bytes>),
}

impl Data {
    fn type_name(&self) -> &'static str {
        match self {
            Data::Str(_) => "string",
            Data::Hash(_) => "hash",
            Data::Set(_) => "set",
            Data::List(_) => "list",
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            Data::Str(_) => false,
            Data::Hash(h) => h.is_empty(),
            Data::Set(s) => s.is_empty(),
            Data::List(l) => l.is_empty(),
        }
    }
}

struct Entry {
    data: Data,
    expires: Option<Instant>,
}

#[derive(Default)]
struct Db {
    keys: HashMap<Bytes, Entry>,
    /// Keys with a TTL, swept about once a second so expired data doesn't linger unread.
    volatile: HashSet<Bytes>,
    next_sweep: Option<Instant>,
}

/// Redis's LRANGE/LTRIM index rules: negatives count from the end, out of range clamps.
fn clamp_range(start: i64, stop: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let s = if start < 0 {
        (len + start).max(0)
    } else {
        start
    };
    let e = if stop < 0 {
        len + stop
    } else {
        stop.min(len - 1)
    };
    if s > e || s >= len {
        None
    } else {
        Some((s as usize, e as usize))
    }
}

impl Db {
    fn sweep(&mut self, now: Instant) {
        if self.next_sweep.is_some_and(|t| now < t) {
            return;
        }
        self.next_sweep = Some(now + SWEEP_EVERY);
        let dead: Vec<Bytes> = self
            .volatile
            .iter()
            .filter(|k| {
                self.keys
                    .get(*k)
                    .is_none_or(|e| e.expires.is_some_and(|t| t <= now))
            })
            .cloned()
            .collect();
        for k in dead {
            self.volatile.remove(&k);
            self.keys.remove(&k);
        }
    }

    /// The live entry for `key`; an expired one is removed on the way.
    fn live(&mut self, key: &[u8], now: Instant) -> Option<&mut Entry> {
        if self
            .keys
            .get(key)
            .is_some_and(|e| e.expires.is_some_and(|t| t <= now))
        {
            self.keys.remove(key);
            self.volatile.remove(key);
            return None;
        }
        self.keys.get_mut(key)
    }

    fn remove(&mut self, key: &[u8]) -> bool {
        self.volatile.remove(key);
        self.keys.remove(key).is_some()
    }

    /// Drop a collection that became empty, as Redis does.
    fn drop_if_empty(&mut self, key: &[u8]) {
        if self.keys.get(key).is_some_and(|e| e.data.is_empty()) {
            self.remove(key);
        }
    }

    fn set_expiry(&mut self, key: &Bytes, at: Option<Instant>) {
        if let Some(e) = self.keys.get_mut(key) {
            e.expires = at;
            if at.is_some() {
                self.volatile.insert(key.clone());
            } else {
                self.volatile.remove(key);
            }
        }
    }

    /// The entry for `key`, created by `make` when absent.
    fn entry_or(&mut self, key: &Bytes, now: Instant, make: fn() -> Data) -> &mut Entry {
        if self.live(key, now).is_none() {
            self.keys.insert(
                key.clone(),
                Entry {
                    data: make(),
                    expires: None,
                },
            );
        }
        self.keys.get_mut(key).expect("inserted above")
    }
}

/// Read-only views for commands on one type; `Err` carries WRONGTYPE.
macro_rules! view {
    ($db:expr, $key:expr, $now:expr, $variant:ident) => {
        match $db.live($key, $now) {
            None => None,
            Some(Entry {
                data: Data::$variant(v),
                ..
            }) => Some(v),
            Some(_) => return err(WRONGTYPE),
        }
    };
}

/// A mutable view that creates the key with an empty value of that type.
macro_rules! view_mut {
    ($db:expr, $key:expr, $now:expr, $variant:ident) => {
        match &mut $db
            .entry_or($key, $now, || Data::$variant(Default::default()))
            .data
        {
            Data::$variant(v) => v,
            _ => return err(WRONGTYPE),
        }
    };
}

struct Subscriber {
    id: u64,
    tx: UnboundedSender<Event>,
}

#[derive(Default)]
struct PubSub {
    channels: HashMap<Bytes, Vec<Subscriber>>,
    patterns: Vec<(Bytes, Subscriber)>,
}

pub struct Store {
    dbs: Mutex<HashMap<i64, Db>>,
    pubsub: Mutex<PubSub>,
    next_id: AtomicU64,
}

/// The node's store (one per process, like one Redis server).
pub fn store() -> &'static Store {
    static STORE: OnceLock<Store> = OnceLock::new();
    STORE.get_or_init(|| Store {
        dbs: Mutex::new(HashMap::new()),
        pubsub: Mutex::new(PubSub::default()),
        next_id: AtomicU64::new(1),
    })
}

impl Store {
    /// Run one command (`args[0]` is its name, any case) in database `db`.
    pub fn exec(&self, db: i64, args: &[Bytes]) -> Reply {
        let Some(name) = args.first() else {
            return err("ERR empty command");
        };
        let name = String::from_utf8_lossy(name).to_ascii_lowercase();
        if name == "publish" {
            return match args {
                [_, ch, msg] => Reply::Int(self.publish(ch, msg)),
                _ => arity(&name),
            };
        }
        let now = Instant::now();
        let mut dbs = self.dbs.lock();
        let d = dbs.entry(db).or_default();
        d.sweep(now);
        run(d, &name, &args[1..], now)
    }

    /// Register a subscriber queue; returns its id for (un)subscribing.
    pub fn subscriber_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    pub fn subscribe(&self, id: u64, tx: &UnboundedSender<Event>, channel: Bytes, pattern: bool) {
        let mut ps = self.pubsub.lock();
        let sub = Subscriber { id, tx: tx.clone() };
        if pattern {
            if !ps.patterns.iter().any(|(p, s)| s.id == id && *p == channel) {
                ps.patterns.push((channel, sub));
            }
        } else {
            let subs = ps.channels.entry(channel).or_default();
            if !subs.iter().any(|s| s.id == id) {
                subs.push(sub);
            }
        }
    }

    /// Remove `id` from the named channels/patterns, or from all of them when `names` is empty.
    pub fn unsubscribe(&self, id: u64, names: &[Bytes], pattern: bool) {
        let mut ps = self.pubsub.lock();
        let hit = |n: &Bytes| names.is_empty() || names.contains(n);
        if pattern {
            ps.patterns.retain(|(p, s)| !(s.id == id && hit(p)));
        } else {
            ps.channels.retain(|ch, subs| {
                if hit(ch) {
                    subs.retain(|s| s.id != id);
                }
                !subs.is_empty()
            });
        }
    }

    fn publish(&self, channel: &Bytes, msg: &Bytes) -> i64 {
        let mut ps = self.pubsub.lock();
        let mut n = 0;
        if let Some(subs) = ps.channels.get_mut(channel) {
            subs.retain(|s| {
                let ev = Event::Message {
                    channel: channel.to_vec(),
                    payload: msg.to_vec(),
                    pattern: None,
                };
                let alive = s.tx.send(ev).is_ok();
                n += alive as i64;
                alive
            });
            if subs.is_empty() {
                ps.channels.remove(channel);
            }
        }
        ps.patterns.retain(|(p, s)| {
            if !glob::matches(p, channel) {
                return !s.tx.is_closed();
            }
            let ev = Event::Message {
                channel: channel.to_vec(),
                payload: msg.to_vec(),
                pattern: Some(p.to_vec()),
            };
            let alive = s.tx.send(ev).is_ok();
            n += alive as i64;
            alive
        });
        n
    }
}

fn run(d: &mut Db, name: &str, a: &[Bytes], now: Instant) -> Reply {
    match (name, a.len()) {
        ("ping", 0) => Reply::Status("PONG"),
        ("ping", 1) => Reply::Bulk(a[0].clone()),
        ("del", n) if n >= 1 => Reply::Int(
            a.iter()
                .filter(|k| d.live(k, now).is_some() && d.remove(k))
                .count() as i64,
        ),
        ("exists", n) if n >= 1 => {
            Reply::Int(a.iter().filter(|k| d.live(k, now).is_some()).count() as i64)
        }
        ("type", 1) => Reply::Status(
            d.live(&a[0], now)
                .map(|e| e.data.type_name())
                .unwrap_or("none"),
        ),
        ("expire", 2) | ("pexpire", 2) => {
            let Some(t) = parse_int(&a[1]) else {
                return err(NOT_INT);
            };
            if d.live(&a[0], now).is_none() {
                return Reply::Int(0);
            }
            let ms = if name == "expire" {
                t.saturating_mul(1000)
            } else {
                t
            };
            if ms <= 0 {
                d.remove(&a[0]);
            } else {
                d.set_expiry(&a[0], Some(now + Duration::from_millis(ms as u64)));
            }
            Reply::Int(1)
        }
        ("ttl", 1) | ("pttl", 1) => match d.live(&a[0], now) {
            None => Reply::Int(-2),
            Some(Entry { expires: None, .. }) => Reply::Int(-1),
            Some(Entry {
                expires: Some(t), ..
            }) => {
                let ms = t.saturating_duration_since(now).as_millis() as i64;
                Reply::Int(if name == "ttl" { (ms + 500) / 1000 } else { ms })
            }
        },
        ("persist", 1) => match d.live(&a[0], now) {
            Some(Entry {
                expires: Some(_), ..
            }) => {
                d.set_expiry(&a[0], None);
                Reply::Int(1)
            }
            _ => Reply::Int(0),
        },
        ("keys", 1) => {
            let mut keys: Vec<Bytes> = Vec::new();
            for (k, e) in d.keys.iter() {
                if e.expires.is_none_or(|t| t > now) && glob::matches(&a[0], k) {
                    keys.push(k.clone());
                }
            }
            bulk_array(keys.iter())
        }
        ("dbsize", 0) => Reply::Int(
            d.keys
                .values()
                .filter(|e| e.expires.is_none_or(|t| t > now))
                .count() as i64,
        ),
        ("flushdb", 0) => {
            d.keys.clear();
            d.volatile.clear();
            Reply::Status("OK")
        }
        _ => strings(d, name, a, now),
    }
}

fn strings(d: &mut Db, name: &str, a: &[Bytes], now: Instant) -> Reply {
    match (name, a.len()) {
        ("get", 1) => match view!(d, &a[0], now, Str) {
            Some(v) => Reply::Bulk(v.clone()),
            None => Reply::Nil,
        },
        ("mget", n) if n >= 1 => Reply::Array(
            a.iter()
                .map(|k| match d.live(k, now) {
                    Some(Entry {
                        data: Data::Str(v), ..
                    }) => Reply::Bulk(v.clone()),
                    _ => Reply::Nil,
                })
                .collect(),
        ),
        ("set", n) if n >= 2 => set(d, a, now),
        ("setnx", 2) => {
            if d.live(&a[0], now).is_some() {
                return Reply::Int(0);
            }
            d.keys.insert(
                a[0].clone(),
                Entry {
                    data: Data::Str(a[1].clone()),
                    expires: None,
                },
            );
            Reply::Int(1)
        }
        ("setex", 3) => match parse_int(&a[1]) {
            Some(s) if s > 0 => {
                d.remove(&a[0]);
                d.keys.insert(
                    a[0].clone(),
                    Entry {
                        data: Data::Str(a[2].clone()),
                        expires: None,
                    },
                );
                d.set_expiry(&a[0], Some(now + Duration::from_secs(s as u64)));
                Reply::Status("OK")
            }
            Some(_) => err("ERR invalid expire time in 'setex' command"),
            None => err(NOT_INT),
        },
        ("mset", n) if n >= 2 && n % 2 == 0 => {
            for kv in a.chunks(2) {
                d.remove(&kv[0]);
                d.keys.insert(
                    kv[0].clone(),
                    Entry {
                        data: Data::Str(kv[1].clone()),
                        expires: None,
                    },
                );
            }
            Reply::Status("OK")
        }
        ("incr", 1) | ("decr", 1) | ("incrby", 2) | ("decrby", 2) => {
            let by = match a.get(1) {
                None => 1,
                Some(b) => match parse_int(b) {
                    Some(v) => v,
                    None => return err(NOT_INT),
                },
            };
            let by = if name.starts_with("decr") {
                by.checked_neg()
            } else {
                Some(by)
            };
            let Some(by) = by else {
                return err("ERR decrement would overflow");
            };
            let cur = match view!(d, &a[0], now, Str) {
                None => 0,
                Some(v) => match parse_int(v) {
                    Some(i) => i,
                    None => return err(NOT_INT),
                },
            };
            let Some(next) = cur.checked_add(by) else {
                return err("ERR increment or decrement would overflow");
            };
            let e = d.entry_or(&a[0], now, || Data::Str(Bytes::new()));
            e.data = Data::Str(Bytes::from(next.to_string()));
            Reply::Int(next)
        }
        _ => hashes(d, name, a, now),
    }
}

/// SET key value [EX s | PX ms | KEEPTTL] [NX | XX]
fn set(d: &mut Db, a: &[Bytes], now: Instant) -> Reply {
    let (mut ttl, mut keep, mut nx, mut xx) = (None, false, false, false);
    let mut i = 2;
    while i < a.len() {
        let opt = String::from_utf8_lossy(&a[i]).to_ascii_lowercase();
        match opt.as_str() {
            "ex" | "px" if ttl.is_none() && !keep => {
                let Some(v) = a.get(i + 1).and_then(|b| parse_int(b)) else {
                    return err(NOT_INT);
                };
                if v <= 0 {
                    return err("ERR invalid expire time in 'set' command");
                }
                ttl = Some(if opt == "ex" {
                    Duration::from_secs(v as u64)
                } else {
                    Duration::from_millis(v as u64)
                });
                i += 1;
            }
            "keepttl" if ttl.is_none() => keep = true,
            "nx" if !xx => nx = true,
            "xx" if !nx => xx = true,
            _ => return err("ERR syntax error"),
        }
        i += 1;
    }
    let exists = d.live(&a[0], now).is_some();
    if (nx && exists) || (xx && !exists) {
        return Reply::Nil;
    }
    let old = if keep {
        d.live(&a[0], now).and_then(|e| e.expires)
    } else {
        None
    };
    d.remove(&a[0]);
    d.keys.insert(
        a[0].clone(),
        Entry {
            data: Data::Str(a[1].clone()),
            expires: None,
        },
    );
    d.set_expiry(&a[0], ttl.map(|t| now + t).or(old));
    Reply::Status("OK")
}

fn hashes(d: &mut Db, name: &str, a: &[Bytes], now: Instant) -> Reply {
    match (name, a.len()) {
        ("hget", 2) => match view!(d, &a[0], now, Hash).and_then(|h| h.get(&a[1])) {
            Some(v) => Reply::Bulk(v.clone()),
            None => Reply::Nil,
        },
        ("hmget", n) if n >= 2 => {
            let h = view!(d, &a[0], now, Hash).map(|h| &*h);
            Reply::Array(
                a[1..]
                    .iter()
                    .map(|f| {
                        h.and_then(|h| h.get(f))
                            .map_or(Reply::Nil, |v| Reply::Bulk(v.clone()))
                    })
                    .collect(),
            )
        }
        ("hset", n) | ("hmset", n) if n >= 3 && n % 2 == 1 => {
            let h = view_mut!(d, &a[0], now, Hash);
            let added = a[1..]
                .chunks(2)
                .filter(|fv| h.insert(fv[0].clone(), fv[1].clone()).is_none())
                .count();
            if name == "hmset" {
                Reply::Status("OK")
            } else {
                Reply::Int(added as i64)
            }
        }
        ("hsetnx", 3) => {
            let h = view_mut!(d, &a[0], now, Hash);
            if h.contains_key(&a[1]) {
                return Reply::Int(0);
            }
            h.insert(a[1].clone(), a[2].clone());
            Reply::Int(1)
        }
        ("hdel", n) if n >= 2 => {
            let Some(h) = view!(d, &a[0], now, Hash) else {
                return Reply::Int(0);
            };
            let n = a[1..].iter().filter(|f| h.remove(*f).is_some()).count();
            d.drop_if_empty(&a[0]);
            Reply::Int(n as i64)
        }
        ("hgetall", 1) => match view!(d, &a[0], now, Hash) {
            Some(h) => Reply::Array(
                h.iter()
                    .flat_map(|(k, v)| [Reply::Bulk(k.clone()), Reply::Bulk(v.clone())])
                    .collect(),
            ),
            None => Reply::Array(Vec::new()),
        },
        ("hkeys", 1) => {
            view!(d, &a[0], now, Hash).map_or(Reply::Array(Vec::new()), |h| bulk_array(h.keys()))
        }
        ("hvals", 1) => {
            view!(d, &a[0], now, Hash).map_or(Reply::Array(Vec::new()), |h| bulk_array(h.values()))
        }
        ("hlen", 1) => Reply::Int(view!(d, &a[0], now, Hash).map_or(0, |h| h.len() as i64)),
        ("hexists", 2) => {
            int_reply(view!(d, &a[0], now, Hash).is_some_and(|h| h.contains_key(&a[1])))
        }
        ("hincrby", 3) => {
            let Some(by) = parse_int(&a[2]) else {
                return err(NOT_INT);
            };
            let h = view_mut!(d, &a[0], now, Hash);
            let cur = match h.get(&a[1]) {
                None => 0,
                Some(v) => match parse_int(v) {
                    Some(i) => i,
                    None => return err("ERR hash value is not an integer"),
                },
            };
            let Some(next) = cur.checked_add(by) else {
                return err("ERR increment or decrement would overflow");
            };
            h.insert(a[1].clone(), Bytes::from(next.to_string()));
            Reply::Int(next)
        }
        _ => sets(d, name, a, now),
    }
}

fn sets(d: &mut Db, name: &str, a: &[Bytes], now: Instant) -> Reply {
    match (name, a.len()) {
        ("sadd", n) if n >= 2 => {
            let s = view_mut!(d, &a[0], now, Set);
            Reply::Int(a[1..].iter().filter(|m| s.insert((*m).clone())).count() as i64)
        }
        ("srem", n) if n >= 2 => {
            let Some(s) = view!(d, &a[0], now, Set) else {
                return Reply::Int(0);
            };
            let n = a[1..].iter().filter(|m| s.remove(*m)).count();
            d.drop_if_empty(&a[0]);
            Reply::Int(n as i64)
        }
        ("smembers", 1) => {
            view!(d, &a[0], now, Set).map_or(Reply::Array(Vec::new()), |s| bulk_array(s.iter()))
        }
        ("sismember", 2) => int_reply(view!(d, &a[0], now, Set).is_some_and(|s| s.contains(&a[1]))),
        ("scard", 1) => Reply::Int(view!(d, &a[0], now, Set).map_or(0, |s| s.len() as i64)),
        _ => lists(d, name, a, now),
    }
}

fn lists(d: &mut Db, name: &str, a: &[Bytes], now: Instant) -> Reply {
    match (name, a.len()) {
        ("lpush", n) | ("rpush", n) if n >= 2 => {
            let l = view_mut!(d, &a[0], now, List);
            for v in &a[1..] {
                if name == "lpush" {
                    l.push_front(v.clone());
                } else {
                    l.push_back(v.clone());
                }
            }
            Reply::Int(l.len() as i64)
        }
        ("lpop", 1) | ("rpop", 1) => {
            let Some(l) = view!(d, &a[0], now, List) else {
                return Reply::Nil;
            };
            let v = if name == "lpop" {
                l.pop_front()
            } else {
                l.pop_back()
            };
            d.drop_if_empty(&a[0]);
            v.map_or(Reply::Nil, Reply::Bulk)
        }
        ("lrange", 3) => {
            let (Some(start), Some(stop)) = (parse_int(&a[1]), parse_int(&a[2])) else {
                return err(NOT_INT);
            };
            let Some(l) = view!(d, &a[0], now, List) else {
                return Reply::Array(Vec::new());
            };
            match clamp_range(start, stop, l.len()) {
                Some((s, e)) => bulk_array(l.range(s..=e)),
                None => Reply::Array(Vec::new()),
            }
        }
        ("ltrim", 3) => {
            let (Some(start), Some(stop)) = (parse_int(&a[1]), parse_int(&a[2])) else {
                return err(NOT_INT);
            };
            let Some(l) = view!(d, &a[0], now, List) else {
                return Reply::Status("OK");
            };
            match clamp_range(start, stop, l.len()) {
                Some((s, e)) => {
                    l.truncate(e + 1);
                    l.drain(..s);
                }
                None => l.clear(),
            }
            d.drop_if_empty(&a[0]);
            Reply::Status("OK")
        }
        ("llen", 1) => Reply::Int(view!(d, &a[0], now, List).map_or(0, |l| l.len() as i64)),
        ("lindex", 2) => {
            let Some(i) = parse_int(&a[1]) else {
                return err(NOT_INT);
            };
            let Some(l) = view!(d, &a[0], now, List) else {
                return Reply::Nil;
            };
            let i = if i < 0 { l.len() as i64 + i } else { i };
            if i < 0 {
                return Reply::Nil;
            }
            l.get(i as usize)
                .map_or(Reply::Nil, |v| Reply::Bulk(v.clone()))
        }
        ("lrem", 3) => {
            let Some(count) = parse_int(&a[1]) else {
                return err(NOT_INT);
            };
            let Some(l) = view!(d, &a[0], now, List) else {
                return Reply::Int(0);
            };
            let limit = if count == 0 {
                usize::MAX
            } else {
                count.unsigned_abs() as usize
            };
            let mut removed = 0;
            if count >= 0 {
                let mut i = 0;
                while i < l.len() && removed < limit {
                    if l[i] == a[2] {
                        l.remove(i);
                        removed += 1;
                    } else {
                        i += 1;
                    }
                }
            } else {
                let mut i = l.len();
                while i > 0 && removed < limit {
                    i -= 1;
                    if l[i] == a[2] {
                        l.remove(i);
                        removed += 1;
                    }
                }
            }
            d.drop_if_empty(&a[0]);
            Reply::Int(removed as i64)
        }
        _ => unknown(name, a),
    }
}

fn unknown(name: &str, a: &[Bytes]) -> Reply {
    if KNOWN.contains(&name) {
        return arity(name);
    }
    let args: String = a
        .iter()
        .take(4)
        .map(|b| format!("'{}' ", String::from_utf8_lossy(b)))
        .collect();
    Reply::Error(format!(
        "ERR unknown command '{name}', with args beginning with: {args}"
    ))
}

/// Commands the store implements (others are "unknown", as on a Redis without them).
pub const KNOWN: &[&str] = &[
    "ping",
    "del",
    "exists",
    "type",
    "expire",
    "pexpire",
    "ttl",
    "pttl",
    "persist",
    "keys",
    "dbsize",
    "flushdb",
    "get",
    "mget",
    "set",
    "setnx",
    "setex",
    "mset",
    "incr",
    "decr",
    "incrby",
    "decrby",
    "hget",
    "hmget",
    "hset",
    "hmset",
    "hsetnx",
    "hdel",
    "hgetall",
    "hkeys",
    "hvals",
    "hlen",
    "hexists",
    "hincrby",
    "sadd",
    "srem",
    "smembers",
    "sismember",
    "scard",
    "lpush",
    "rpush",
    "lpop",
    "rpop",
    "lrange",
    "ltrim",
    "llen",
    "lindex",
    "lrem",
    "publish",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(db: &mut Db, args: &[&str]) -> Reply {
        let v: Vec<Bytes> = args
            .iter()
            .map(|s| Bytes::copy_from_slice(s.as_bytes()))
            .collect();
        run(db, &args[0].to_ascii_lowercase(), &v[1..], Instant::now())
    }

    fn bulk(s: &str) -> Reply {
        Reply::Bulk(Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn ranges_follow_redis() {
        let mut d = Db::default();
        cmd(&mut d, &["rpush", "l", "a", "b", "c", "d", "e"]);
        assert_eq!(
            cmd(&mut d, &["lrange", "l", "-2", "-1"]),
            Reply::Array(vec![bulk("d"), bulk("e")])
        );
        assert_eq!(
            cmd(&mut d, &["lrange", "l", "3", "1"]),
            Reply::Array(vec![])
        );
        assert_eq!(
            cmd(&mut d, &["lrange", "l", "-100", "1"]),
            Reply::Array(vec![bulk("a"), bulk("b")])
        );
        assert_eq!(cmd(&mut d, &["ltrim", "l", "1", "-2"]), Reply::Status("OK"));
        assert_eq!(
            cmd(&mut d, &["lrange", "l", "0", "-1"]),
            Reply::Array(vec![bulk("b"), bulk("c"), bulk("d")])
        );
        assert_eq!(cmd(&mut d, &["ltrim", "l", "5", "10"]), Reply::Status("OK"));
        assert_eq!(cmd(&mut d, &["exists", "l"]), Reply::Int(0));
    }

    #[test]
    fn types_and_errors() {
        let mut d = Db::default();
        assert_eq!(cmd(&mut d, &["set", "s", "x"]), Reply::Status("OK"));
        assert_eq!(cmd(&mut d, &["hget", "s", "f"]), err(WRONGTYPE));
        assert_eq!(cmd(&mut d, &["incr", "s"]), err(NOT_INT));
        assert_eq!(cmd(&mut d, &["incrby", "n", "5"]), Reply::Int(5));
        assert_eq!(cmd(&mut d, &["set", "s", "y", "nx"]), Reply::Nil);
        assert_eq!(cmd(&mut d, &["hset", "h", "f"]), arity("hset"));
        assert!(
            matches!(cmd(&mut d, &["nope", "a"]), Reply::Error(e) if e.starts_with("ERR unknown command 'nope'"))
        );
    }

    #[test]
    fn expiry() {
        let mut d = Db::default();
        cmd(&mut d, &["set", "k", "v"]);
        assert_eq!(cmd(&mut d, &["ttl", "k"]), Reply::Int(-1));
        assert_eq!(cmd(&mut d, &["pexpire", "k", "1"]), Reply::Int(1));
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(cmd(&mut d, &["get", "k"]), Reply::Nil);
        assert_eq!(cmd(&mut d, &["ttl", "k"]), Reply::Int(-2));
        cmd(&mut d, &["set", "k", "v", "ex", "100"]);
        assert_eq!(cmd(&mut d, &["ttl", "k"]), Reply::Int(100));
        cmd(&mut d, &["set", "k", "w"]);
        assert_eq!(cmd(&mut d, &["ttl", "k"]), Reply::Int(-1));
    }
}
