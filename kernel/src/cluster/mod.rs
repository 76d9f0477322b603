//! Cluster: call and send between nodes over TCP in skynet's cluster wire format.
//! The node table comes from the `cluster` config file (a Lua file of `name = "host:port"`),
//! `cluster.reload`, or discovery; each remote node gets one pipelined link.

pub mod discovery;
pub mod link;
pub mod serve;
pub mod wire;

use crate::lua::io::spawn_io;
use crate::lua::msgbuf;
use crate::node::node;
use crate::service::Handle;
use link::{Link, Op};
use parking_lot::{Mutex, RwLock};
use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Duration;
use wire::Addr;

#[derive(Default)]
pub struct Cluster {
    nodes: RwLock<HashMap<String, String>>,
    /// node -> its `cluster_role` as announced in discovery (game roles find each other by it)
    roles: RwLock<HashMap<String, String>>,
    links: Mutex<HashMap<String, Link>>,
    names: RwLock<HashMap<String, Handle>>,
    listening: Mutex<Option<String>>,
    announced: Mutex<Option<discovery::Conf>>,
}

static CLUSTER: OnceLock<Cluster> = OnceLock::new();

/// The cluster state, if anything in this node has used the cluster.
pub fn try_cluster() -> Option<&'static Cluster> {
    CLUSTER.get()
}

pub fn cluster() -> &'static Cluster {
    CLUSTER.get_or_init(|| {
        let c = Cluster::default();
        if let Some(n) = crate::node::try_node() {
            if let Some(path) = n.env.get("cluster") {
                match load_config(&path) {
                    Ok(m) => *c.nodes.write() = m,
                    Err(e) => tracing::error!("cluster config {path}: {e}"),
                }
            }
            // With discovery the table follows Redis instead.
            if let Some(url) = n.env.get("cluster_redis") {
                n.io()
                    .spawn(discovery::run(discovery::Conf::from_env(url, "", "")));
            }
        }
        c
    })
}

/// Read a skynet-style cluster file: every global string is `name -> "host:port"`.
pub fn load_config(path: &str) -> Result<HashMap<String, String>, String> {
    let src = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    let lua = mlua::Lua::new();
    let env = lua.create_table().map_err(|e| e.to_string())?;
    lua.load(&src)
        .set_name(format!("@{path}"))
        .set_environment(env.clone())
        .exec()
        .map_err(|e| e.to_string())?;
    let mut m = HashMap::new();
    for pair in env.pairs::<String, mlua::Value>() {
        let (k, v) = pair.map_err(|e| e.to_string())?;
        if let mlua::Value::String(s) = v {
            m.insert(k, s.to_string_lossy());
        }
    }
    Ok(m)
}

fn connect_timeout() -> Duration {
    let ms = node()
        .env
        .get("cluster_timeout")
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(3000);
    Duration::from_millis(ms)
}

impl Cluster {
    pub fn reload(&self, nodes: HashMap<String, String>) {
        *self.nodes.write() = nodes;
    }

    pub fn set_node(&self, name: &str, addr: Option<&str>) {
        let mut n = self.nodes.write();
        match addr {
            Some(a) => n.insert(name.to_string(), a.to_string()),
            None => n.remove(name),
        };
    }

    pub fn node_addr(&self, name: &str) -> Option<String> {
        self.nodes.read().get(name).cloned()
    }

    pub fn nodes(&self) -> HashMap<String, String> {
        self.nodes.read().clone()
    }

    pub fn set_role(&self, name: &str, role: Option<&str>) {
        let mut r = self.roles.write();
        match role {
            Some(v) => r.insert(name.to_string(), v.to_string()),
            None => r.remove(name),
        };
    }

    /// Roles of the nodes currently in the table (discovery only; static tables have none).
    pub fn roles(&self) -> HashMap<String, String> {
        let nodes = self.nodes.read();
        self.roles
            .read()
            .iter()
            .filter(|(n, _)| nodes.contains_key(*n))
            .map(|(n, r)| (n.clone(), r.clone()))
            .collect()
    }

    /// On graceful stop: take this node out of the Redis registry.
    pub async fn leave(&self) {
        let conf = self.announced.lock().clone();
        if let Some(conf) = conf {
            discovery::leave(&conf).await;
        }
    }

    pub fn register(&self, name: &str, h: Handle) {
        self.names.write().insert(name.to_string(), h);
    }

    pub fn unregister(&self, name: &str) {
        self.names.write().remove(name);
    }

    pub fn registered(&self, name: &str) -> Option<Handle> {
        self.names.read().get(name).copied()
    }

    /// Listen for peers: a node name from the table, or a port (all interfaces). With
    /// discovery configured (`cluster_redis`), a name not in the table listens on
    /// `cluster_listen` (default 127.0.0.1, any port) and is announced in Redis.
    pub fn open(&'static self, what: &str) -> Result<String, String> {
        let redis_url = node().env.get("cluster_redis");
        let addr = match what.parse::<u16>() {
            Ok(port) => format!("0.0.0.0:{port}"),
            Err(_) => match (self.node_addr(what), &redis_url) {
                (Some(a), _) => a,
                (None, Some(_)) => node()
                    .env
                    .get("cluster_listen")
                    .unwrap_or_else(|| "127.0.0.1:0".into()),
                (None, None) => {
                    return Err(format!("cluster node {what} is not in the cluster config"))
                }
            },
        };
        let std = std::net::TcpListener::bind(&addr)
            .map_err(|e| format!("cluster listen {addr}: {e}"))?;
        std.set_nonblocking(true).map_err(|e| e.to_string())?;
        let bound = std.local_addr().map(|a| a.to_string()).unwrap_or(addr);
        let _g = node().io().enter();
        let l = tokio::net::TcpListener::from_std(std).map_err(|e| e.to_string())?;
        node().io().spawn(serve::accept_loop(l));
        tracing::info!("cluster listening on {bound}");
        *self.listening.lock() = Some(bound.clone());
        if let (Some(url), Err(_)) = (redis_url, what.parse::<u16>()) {
            self.set_node(what, Some(&bound));
            let conf = discovery::Conf::from_env(url.clone(), what, &bound);
            self.set_role(what, Some(&conf.role));
            *self.announced.lock() = Some(discovery::Conf::from_env(url.clone(), what, &bound));
            node()
                .io()
                .spawn(discovery::run(discovery::Conf::from_env(url, what, &bound)));
        }
        Ok(bound)
    }

    /// The link to a node; unknown nodes are an error at once.
    pub fn link(&self, name: &str) -> Result<Link, String> {
        if self.node_addr(name).is_none() {
            return Err(format!(
                "unknown cluster node {name} (not in the cluster table)"
            ));
        }
        let mut links = self.links.lock();
        if let Some(l) = links.get(name) {
            return Ok(l.clone());
        }
        let n = name.to_string();
        let l = Link::spawn(
            name.to_string(),
            move || cluster().node_addr(&n),
            connect_timeout(),
        );
        links.insert(name.to_string(), l.clone());
        Ok(l)
    }

    pub async fn call(
        &self,
        node: &str,
        addr: Addr,
        msg: bytes::Bytes,
    ) -> Result<bytes::Bytes, String> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let link = self.link(node)?;
        link.metrics.calls.inc();
        let r = match link.submit(Op::Call {
            addr,
            msg,
            reply: tx,
        }) {
            Ok(()) => rx
                .await
                .unwrap_or_else(|_| Err(format!("cluster node {node}: link closed"))),
            Err(_) => Err(format!("cluster node {node}: link closed")),
        };
        if r.is_err() {
            link.metrics.failures.inc();
        }
        r
    }

    pub fn send(&self, node: &str, addr: Addr, msg: bytes::Bytes) -> Result<(), String> {
        let link = self.link(node)?;
        link.metrics.pushes.inc();
        link.submit(Op::Push { addr, msg })
            .map_err(|_| format!("cluster node {node}: link closed"))
    }
}

fn to_addr(v: &mlua::Value) -> mlua::Result<Addr> {
    match v {
        mlua::Value::Integer(i) => Ok(Addr::Handle(*i as u32)),
        mlua::Value::Number(n) => Ok(Addr::Handle(*n as u32)),
        mlua::Value::String(s) => Ok(Addr::Name(s.to_str()?.to_string())),
        other => Err(mlua::Error::runtime(format!(
            "invalid cluster address type {}",
            other.type_name()
        ))),
    }
}

/// `skynet.cluster.core`, used by `lualib/skynet/cluster.lua`.
pub fn lua_open(lua: &mlua::Lua) -> mlua::Result<mlua::Table> {
    use mlua::Value;
    let t = lua.create_table()?;
    let rt = |e: String| mlua::Error::runtime(e);
    t.set(
        "open",
        lua.create_function(move |_, what: Value| {
            let w = match what {
                Value::Integer(i) => i.to_string(),
                Value::String(s) => s.to_str()?.to_string(),
                other => {
                    return Err(mlua::Error::runtime(format!(
                        "cluster.open needs a node name or port, got {}",
                        other.type_name()
                    )))
                }
            };
            cluster().open(&w).map_err(rt)
        })?,
    )?;
    t.set(
        "reload",
        lua.create_function(move |_, conf: Option<mlua::Table>| {
            let map = match conf {
                Some(t) => t
                    .pairs::<String, String>()
                    .collect::<mlua::Result<HashMap<_, _>>>()?,
                None => {
                    let path = node().env.get("cluster").ok_or_else(|| {
                        mlua::Error::runtime("no `cluster` config key to reload from")
                    })?;
                    load_config(&path).map_err(rt)?
                }
            };
            cluster().reload(map);
            Ok(())
        })?,
    )?;
    t.set(
        "nodes",
        lua.create_function(|lua, ()| lua.create_table_from(cluster().nodes()))?,
    )?;
    t.set(
        "roles",
        lua.create_function(|lua, ()| lua.create_table_from(cluster().roles()))?,
    )?;
    t.set(
        "setnode",
        lua.create_function(|_, (name, addr): (String, Option<String>)| {
            cluster().set_node(&name, addr.as_deref());
            Ok(())
        })?,
    )?;
    t.set(
        "register",
        lua.create_function(|_, (name, h): (String, Handle)| {
            cluster().register(&name, h);
            Ok(())
        })?,
    )?;
    t.set(
        "unregister",
        lua.create_function(|_, name: String| {
            cluster().unregister(&name);
            Ok(())
        })?,
    )?;
    t.set(
        "call",
        lua.create_function(
            |lua, (node, addr, msg, sz): (String, Value, Value, Option<usize>)| {
                let addr = to_addr(&addr)?;
                let msg = msgbuf::take(lua, &msg, sz)?;
                spawn_io(lua, async move {
                    cluster().call(&node, addr, msg).await.map(|b| b.to_vec())
                })
            },
        )?,
    )?;
    t.set(
        "send",
        lua.create_function(
            move |lua, (node, addr, msg, sz): (String, Value, Value, Option<usize>)| {
                let addr = to_addr(&addr)?;
                let msg = msgbuf::take(lua, &msg, sz)?;
                cluster().send(&node, addr, msg).map_err(rt)
            },
        )?,
    )?;
    Ok(t)
}
