//! `ltls.c` and `ltls.init.c`: skynet's TLS module for Lua, on rustls.
//!
//!   local c = require "ltls.c"
//!   local ctx = c.newctx()
//!   ctx:set_cert(certfile, keyfile)      -- PEM chain and key (a server needs one)
//!   ctx:set_ciphers("ECDHE-RSA-AES128-GCM-SHA256:...")  -- OpenSSL or IANA names
//!   ctx:set_verify(cafile | true | false) -- Cirrus: check server certificates (client)
//!   local tls = c.newtls("client" | "server", ctx [, hostname])
//!   tls:handshake([bytes]) -> bytes to send, or nil
//!   tls:finished() -> boolean
//!   tls:read([bytes]) -> the plaintext they (and any earlier bytes) carried, maybe ""
//!   tls:write([plaintext]) -> bytes to send (also what the handshake left), maybe ""
//!   tls:set_ext_host_name(name) -> 1   (client, before its handshake starts)
//!   tls:close()
//!
//! No byte touches a socket here: the Lua side (http.tlshelper) moves them, as with skynet's
//! memory BIOs. A client connection starts at its first handshake/read/write, so a host name
//! set by `set_ext_host_name` after `newtls` still goes into its ClientHello.

use super::{client_config, load_cert, parse_ciphers, server_config, Verify};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{
    ClientConfig, ClientConnection, Connection, ServerConfig, ServerConnection,
    SupportedCipherSuite,
};
use std::io::{ErrorKind, Read, Write};
use std::sync::Arc;

use mlua::{Lua, Table, UserData, UserDataMethods, Value};

fn rt(msg: String) -> mlua::Error {
    mlua::Error::runtime(msg)
}

/// `newctx()`: certificates, cipher suites and the client policy shared by connections.
pub struct Ctx {
    cert: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
    ciphers: Option<Vec<SupportedCipherSuite>>,
    verify: Verify,
    server: Option<Arc<ServerConfig>>,
    /// Client configurations built on first use: [without SNI, with SNI].
    client: [Option<Arc<ClientConfig>>; 2],
}

impl Ctx {
    fn new() -> Ctx {
        Ctx {
            cert: None,
            ciphers: None,
            verify: Verify::None,
            server: None,
            client: [None, None],
        }
    }

    fn rebuild_server(&mut self) -> mlua::Result<()> {
        if let Some((certs, key)) = &self.cert {
            let cfg = server_config(certs.clone(), key.clone_key(), self.ciphers.as_deref())
                .map_err(|e| rt(format!("set_cert: {e}")))?;
            self.server = Some(cfg);
        }
        Ok(())
    }

    fn client_config(&mut self, sni: bool) -> mlua::Result<Arc<ClientConfig>> {
        let slot = &mut self.client[sni as usize];
        if let Some(c) = slot {
            return Ok(c.clone());
        }
        let c = client_config(&self.verify, self.ciphers.as_deref(), sni)
            .map_err(|e| rt(format!("newtls client: {e}")))?;
        *slot = Some(c.clone());
        Ok(c)
    }
}

impl UserData for Ctx {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_method_mut(
            "set_cert",
            |_, this, (certfile, keyfile): (Option<String>, Option<String>)| {
                let certfile = certfile.ok_or_else(|| rt("need certfile".into()))?;
                let keyfile = keyfile.ok_or_else(|| rt("need private key".into()))?;
                let (certs, key) =
                    load_cert(&certfile, &keyfile).map_err(|e| rt(format!("set_cert: {e}")))?;
                let cfg = server_config(certs.clone(), key.clone_key(), this.ciphers.as_deref())
                    .map_err(|e| rt(format!("set_cert {certfile} {keyfile}: {e}")))?;
                this.cert = Some((certs, key));
                this.server = Some(cfg);
                Ok(())
            },
        );
        m.add_method_mut("set_ciphers", |_, this, list: Option<String>| {
            let list = list.ok_or_else(|| rt("need cipher list".into()))?;
            let suites = parse_ciphers(&list).map_err(|e| rt(e.to_string()))?;
            let old = this.ciphers.replace(suites);
            if let Err(e) = this.rebuild_server() {
                this.ciphers = old;
                return Err(e);
            }
            this.client = [None, None];
            Ok(())
        });
        m.add_method_mut("set_verify", |_, this, v: Value| {
            this.verify = match v {
                Value::Nil | Value::Boolean(false) => Verify::None,
                Value::Boolean(true) => Verify::mozilla(),
                Value::String(s) => {
                    Verify::from_cafile(&s.to_str()?).map_err(|e| rt(format!("set_verify: {e}")))?
                }
                other => {
                    return Err(rt(format!(
                        "set_verify: a CA file name, true or false, not a {}",
                        other.type_name()
                    )))
                }
            };
            this.client = [None, None];
            Ok(())
        });
    }
}

/// A client connection not started yet: its configurations and host name.
struct PendingClient {
    plain: Arc<ClientConfig>,
    sni: Arc<ClientConfig>,
    verifying: bool,
    name: Option<ServerName<'static>>,
}

/// `newtls(...)`: one TLS connection over bytes the Lua side carries.
pub struct Tls {
    conn: Option<Connection>,
    pending: Option<PendingClient>,
    closed: bool,
    /// Why the connection failed; it is unusable from then on.
    failed: Option<String>,
    /// Plaintext received and not yet returned by `read`.
    plain: Vec<u8>,
}

/// The first bytes of a plain HTTP request, to say so when they reach a TLS server.
fn looks_like_http(data: &[u8]) -> bool {
    const METHODS: [&[u8]; 9] = [
        b"GET ",
        b"POST ",
        b"PUT ",
        b"HEAD ",
        b"DELETE ",
        b"OPTIONS ",
        b"PATCH ",
        b"CONNECT ",
        b"TRACE ",
    ];
    METHODS.iter().any(|m| data.starts_with(m))
}

impl Tls {
    fn check(&self) -> mlua::Result<()> {
        if self.closed {
            return Err(rt("context is closed".into()));
        }
        if let Some(e) = &self.failed {
            return Err(rt(format!("tls connection failed earlier: {e}")));
        }
        Ok(())
    }

    fn conn(&mut self) -> mlua::Result<&mut Connection> {
        if let Some(p) = self.pending.take() {
            let (cfg, name) = match p.name {
                Some(n) => (p.sni, n),
                None if p.verifying => {
                    return Err(rt("tls client: verifying the server's certificate needs \
                         its host name (newtls's third argument or set_ext_host_name)"
                        .into()))
                }
                // no SNI is sent with this configuration; the name is only a placeholder
                None => (
                    p.plain,
                    ServerName::IpAddress(std::net::Ipv4Addr::UNSPECIFIED.into()),
                ),
            };
            let c = ClientConnection::new(cfg, name).map_err(|e| rt(format!("tls client: {e}")))?;
            self.conn = Some(Connection::Client(c));
        }
        self.conn
            .as_mut()
            .ok_or_else(|| rt("context is closed".into()))
    }

    /// Hand received TLS bytes to rustls; plaintext they carry goes to `self.plain`.
    fn feed(&mut self, data: &[u8], what: &str) -> mlua::Result<()> {
        let conn = self.conn()?;
        let mut rest = data;
        let mut plain = Vec::new();
        let mut result = Ok(());
        while !rest.is_empty() {
            match conn.read_tls(&mut rest) {
                Ok(0) => break, // close_notify received: nothing more is read
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::Other => {} // plaintext buffer full: drained below
                Err(e) => {
                    result = Err(e.to_string());
                    break;
                }
            }
            if let Err(e) = conn.process_new_packets() {
                result = Err(if looks_like_http(data) {
                    format!("{e} (the peer sent plain HTTP, not TLS)")
                } else {
                    e.to_string()
                });
                break;
            }
            drain_plain(conn, &mut plain);
        }
        self.plain.extend_from_slice(&plain);
        result.map_err(|e| {
            tracing::debug!("{what}: {e}");
            let e = format!("{what}: {e}");
            self.failed = Some(e.clone());
            rt(e)
        })
    }

    /// The TLS bytes rustls has to send.
    fn drain_tls(&mut self) -> mlua::Result<Vec<u8>> {
        let mut out = Vec::new();
        if let Some(conn) = self.conn.as_mut() {
            while conn.wants_write() {
                conn.write_tls(&mut out)
                    .map_err(|e| rt(format!("tls write: {e}")))?;
            }
        }
        Ok(out)
    }
}

fn drain_plain(conn: &mut Connection, out: &mut Vec<u8>) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match conn.reader().read(&mut buf) {
            Ok(0) | Err(_) => break, // closed cleanly, or nothing more for now
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
}

fn bytes_arg(v: &Option<mlua::LuaString>) -> Vec<u8> {
    v.as_ref()
        .map(|s| s.as_bytes().to_vec())
        .unwrap_or_default()
}

impl UserData for Tls {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_method_mut("finished", |_, this, ()| {
            this.check()?;
            Ok(this.conn.as_ref().is_some_and(|c| !c.is_handshaking()))
        });
        m.add_method_mut("handshake", |lua, this, data: Option<mlua::LuaString>| {
            this.check()?;
            if !this.conn()?.is_handshaking() {
                return Err(rt("handshake is finished".into()));
            }
            let data = bytes_arg(&data);
            if !data.is_empty() {
                this.feed(&data, "tls handshake")?;
            }
            let out = this.drain_tls()?;
            if out.is_empty() {
                Ok(Value::Nil)
            } else {
                Ok(Value::String(lua.create_string(&out)?))
            }
        });
        m.add_method_mut("read", |lua, this, data: Option<mlua::LuaString>| {
            this.check()?;
            let data = bytes_arg(&data);
            if !data.is_empty() {
                this.feed(&data, "tls read")?;
            }
            let plain = std::mem::take(&mut this.plain);
            lua.create_string(&plain)
        });
        m.add_method_mut("write", |lua, this, data: Option<mlua::LuaString>| {
            let data = bytes_arg(&data);
            if this.failed.is_some() && data.is_empty() && !this.closed {
                // what rustls queued when it failed: the alert telling the peer why
                return lua.create_string(&this.drain_tls()?);
            }
            this.check()?;
            let mut out = Vec::new();
            let mut rest = &data[..];
            while !rest.is_empty() {
                let n = this
                    .conn()?
                    .writer()
                    .write(rest)
                    .map_err(|e| rt(format!("tls write: {e}")))?;
                rest = &rest[n..];
                let more = this.drain_tls()?;
                if n == 0 && more.is_empty() {
                    return Err(rt("tls write: the connection takes no more data".into()));
                }
                out.extend_from_slice(&more);
            }
            if this.conn.is_none() {
                this.conn()?; // a client's first write starts its handshake
            }
            out.extend_from_slice(&this.drain_tls()?);
            lua.create_string(&out)
        });
        m.add_method_mut("set_ext_host_name", |_, this, name: String| {
            this.check()?;
            let Some(p) = this.pending.as_mut() else {
                return Err(rt(
                    if this
                        .conn
                        .as_ref()
                        .is_some_and(|c| matches!(c, Connection::Server(_)))
                    {
                        "set_ext_host_name: a server connection has no host name to send".into()
                    } else {
                        "set_ext_host_name: the handshake has started".into()
                    },
                ));
            };
            let n = ServerName::try_from(name.clone())
                .map_err(|e| rt(format!("set_ext_host_name {name:?}: {e}")))?;
            p.name = Some(n);
            Ok(1)
        });
        m.add_method_mut("close", |_, this, ()| {
            this.conn = None;
            this.pending = None;
            this.plain.clear();
            this.closed = true;
            Ok(())
        });
    }
}

fn newtls(method: Option<String>, ctx: Value, hostname: Option<String>) -> mlua::Result<Tls> {
    let mut ctx = ctx
        .as_userdata()
        .and_then(|u| u.borrow_mut::<Ctx>().ok())
        .ok_or_else(|| rt("need sslctx (from newctx())".into()))?;
    let mut tls = Tls {
        conn: None,
        pending: None,
        closed: false,
        failed: None,
        plain: Vec::new(),
    };
    match method.as_deref() {
        Some("client") => {
            let name = hostname
                .map(|h| {
                    ServerName::try_from(h.clone())
                        .map_err(|e| rt(format!("newtls client: host name {h:?}: {e}")))
                })
                .transpose()?;
            tls.pending = Some(PendingClient {
                plain: ctx.client_config(false)?,
                sni: ctx.client_config(true)?,
                verifying: matches!(ctx.verify, Verify::Roots(_)),
                name,
            });
        }
        Some("server") => {
            let cfg = ctx.server.clone().ok_or_else(|| {
                rt("newtls server: the context has no certificate \
                    (call ctx:set_cert(certfile, keyfile) first)"
                    .into())
            })?;
            let c = ServerConnection::new(cfg).map_err(|e| rt(format!("newtls server: {e}")))?;
            tls.conn = Some(Connection::Server(c));
        }
        other => {
            return Err(rt(format!(
                "invalid method:{} e.g[server, client]",
                other.unwrap_or("nil")
            )))
        }
    }
    Ok(tls)
}

/// `ltls.c`.
pub fn open(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set("newctx", lua.create_function(|_, ()| Ok(Ctx::new()))?)?;
    t.set(
        "newtls",
        lua.create_function(
            |_, (method, ctx, hostname): (Option<String>, Value, Option<String>)| {
                newtls(method, ctx, hostname)
            },
        )?,
    )?;
    Ok(t)
}

/// `ltls.init.c`: skynet initializes OpenSSL here (`enablessl = true`); rustls needs nothing,
/// so both are no-ops kept for programs that call them.
pub fn open_init(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set("constructor", lua.create_function(|_, ()| Ok(()))?)?;
    t.set("destructor", lua.create_function(|_, ()| Ok(()))?)?;
    Ok(t)
}
