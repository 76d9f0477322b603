//! HTTP for Lua services on hyper (`http.core`, under `lualib/http/server.lua` and
//! `lualib/http/httpc.lua`). The server hands each request to the service through an accept
//! session and waits for `respond`; keep-alive and parsing are hyper's. The client is hyper's
//! pooled client, for http:// and https:// (rustls; like skynet's httpc it does not verify the
//! server's certificate, see crate::tls); a request is a session the calling coroutine awaits.
//! A request given an address to connect to (`httpc.dns` resolved the host in Lua) goes on a
//! connection of its own to that address, with the URL's host as Host and TLS server name.

use crate::lua::io::spawn_io;
use crate::lua::seri::{pack_svalues, STable, SValue};
use crate::net::tcp;
use crate::node::node;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode, Uri};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use mlua::{Lua, Table, UserData, UserDataMethods, Value};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, OnceLock};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

const DEFAULT_MAX_BODY: usize = 8 << 20;
const DEFAULT_HANDLER_TIMEOUT: Duration = Duration::from_secs(30);
const MAX_RESPONSE_BODY: usize = 64 << 20;
/// Requests waiting for the Lua service to accept them.
const QUEUE: usize = 1024;
/// Default client timeout (skynet's httpc has none; a hung backend must not hang a caller).
const DEFAULT_CLIENT_CS: u64 = 3000;

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Bytes,
}

struct Incoming1 {
    id: u64,
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, Bytes)>,
    body: Bytes,
    addr: SocketAddr,
}

static WAITING: LazyLock<Mutex<HashMap<u64, oneshot::Sender<Reply>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

struct Forget(u64);

impl Drop for Forget {
    fn drop(&mut self) {
        WAITING.lock().remove(&self.0);
    }
}

fn plain(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::copy_from_slice(text.as_bytes())));
    *r.status_mut() = status;
    r
}

#[derive(Clone, Copy)]
struct Opts {
    max_body: usize,
    timeout: Duration,
}

async fn handle(
    req: Request<Incoming>,
    tx: mpsc::Sender<Incoming1>,
    addr: SocketAddr,
    opts: Opts,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, opts.max_body).collect().await {
        Ok(c) => c.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            return Ok(plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request body too large\n",
            ))
        }
        Err(e) => {
            return Ok(plain(
                StatusCode::BAD_REQUEST,
                &format!("bad request body: {e}\n"),
            ))
        }
    };
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let (otx, orx) = oneshot::channel();
    WAITING.lock().insert(id, otx);
    let mut headers = Vec::with_capacity(parts.headers.len());
    for (k, v) in parts.headers.iter() {
        headers.push((k.as_str().to_string(), Bytes::copy_from_slice(v.as_bytes())));
    }
    let inc = Incoming1 {
        id,
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().unwrap_or("").to_string(),
        headers,
        body,
        addr,
    };
    // However this request ends (answered, timed out, client gone), its slot goes.
    let _forget = Forget(id);
    match tokio::time::timeout(opts.timeout, tx.send(inc)).await {
        Ok(Ok(())) => {}
        _ => return Ok(plain(StatusCode::SERVICE_UNAVAILABLE, "server busy\n")),
    }
    let reply = match tokio::time::timeout(opts.timeout, orx).await {
        Ok(Ok(r)) => r,
        Ok(Err(_)) => return Ok(plain(StatusCode::INTERNAL_SERVER_ERROR, "handler gone\n")),
        Err(_) => return Ok(plain(StatusCode::GATEWAY_TIMEOUT, "handler timed out\n")),
    };
    let mut resp = Response::new(Full::new(reply.body));
    *resp.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (k, v) in reply.headers {
        if let (Ok(k), Ok(v)) = (HeaderName::try_from(k), HeaderValue::try_from(v)) {
            resp.headers_mut().append(k, v);
        }
    }
    Ok(resp)
}

/// A listening HTTP server, owned by the Lua state that opened it (closed when collected).
pub struct Server {
    rx: Arc<tokio::sync::Mutex<mpsc::Receiver<Incoming1>>>,
    stop: CancellationToken,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn listen(host: &str, port: u16, opts: Opts) -> Result<Server, tcp::NetError> {
    let listener = tcp::bind(tcp::resolve_host(host, port)?, 1024)?;
    let local = listener
        .local_addr()
        .map_err(|e| tcp::NetError::Io("getsockname", host.to_string(), e))?;
    let (tx, rx) = mpsc::channel(QUEUE);
    let stop = CancellationToken::new();
    let st = stop.clone();
    node().io().spawn(async move {
        loop {
            let (stream, addr) = tokio::select! {
                _ = st.cancelled() => break,
                r = listener.accept() => match r {
                    Ok(x) => x,
                    Err(e) => {
                        tracing::warn!("http accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
            };
            let tx = tx.clone();
            let st = st.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req| handle(req, tx.clone(), addr, opts));
                let conn = http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(stream), svc);
                tokio::select! {
                    r = conn => if let Err(e) = r {
                        tracing::debug!("http connection from {addr}: {e}");
                    },
                    _ = st.cancelled() => {}
                }
            });
        }
    });
    Ok(Server {
        rx: Arc::new(tokio::sync::Mutex::new(rx)),
        stop,
        port: local.port(),
    })
}

fn str_sv(s: &str) -> SValue {
    SValue::Str(Bytes::copy_from_slice(s.as_bytes()))
}

fn request_table(r: Incoming1) -> SValue {
    // Repeated headers are joined with ", " (RFC 9110 list semantics).
    let mut hs: Vec<(String, Vec<u8>)> = Vec::new();
    for (k, v) in r.headers {
        match hs.iter_mut().find(|(n, _)| *n == k) {
            Some((_, old)) => {
                old.extend_from_slice(b", ");
                old.extend_from_slice(&v);
            }
            None => hs.push((k, v.to_vec())),
        }
    }
    let headers = STable {
        array: vec![],
        hash: hs
            .into_iter()
            .map(|(k, v)| (str_sv(&k), SValue::Str(Bytes::from(v))))
            .collect(),
    };
    let hash = vec![
        (str_sv("id"), SValue::Int(r.id as i64)),
        (str_sv("method"), str_sv(&r.method)),
        (str_sv("path"), str_sv(&r.path)),
        (str_sv("query"), str_sv(&r.query)),
        (str_sv("headers"), SValue::Table(headers)),
        (str_sv("body"), SValue::Str(r.body)),
        (str_sv("addr"), str_sv(&r.addr.to_string())),
    ];
    SValue::Table(STable {
        array: vec![],
        hash,
    })
}

impl UserData for Server {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        // accept(): a session answered with the next request table (or an error once closed).
        m.add_method("accept", |lua, this, ()| {
            let rx = this.rx.clone();
            let stop = this.stop.clone();
            spawn_io(lua, async move {
                let mut rx = rx.lock().await;
                tokio::select! {
                    _ = stop.cancelled() => Err("http server closed".to_string()),
                    r = rx.recv() => match r {
                        Some(req) => Ok(pack_svalues(&[request_table(req)])),
                        None => Err("http server closed".to_string()),
                    },
                }
            })
        });
        m.add_method("port", |_, this, ()| Ok(this.port));
        m.add_method("close", |_, this, ()| {
            this.stop.cancel();
            Ok(())
        });
    }
}

fn headers_arg(t: Option<Table>) -> mlua::Result<Vec<(String, String)>> {
    let mut v = Vec::new();
    if let Some(t) = t {
        for pair in t.pairs::<String, Value>() {
            let (k, val) = pair?;
            let s = match val {
                Value::String(s) => s.to_str()?.to_string(),
                Value::Integer(i) => i.to_string(),
                Value::Number(n) => n.to_string(),
                other => {
                    return Err(mlua::Error::runtime(format!(
                        "header {k}: invalid value type {}",
                        other.type_name()
                    )))
                }
            };
            v.push((k, s));
        }
    }
    Ok(v)
}

type Pooled = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// The TLS client configuration of http.httpc: no certificate verification (skynet's).
fn tls_config() -> Result<Arc<rustls::ClientConfig>, String> {
    static C: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    C.get_or_init(|| {
        // no ALPN: HTTP/1.1 is what both sides assume (hyper-rustls refuses a preset list)
        crate::tls::client_config(&crate::tls::Verify::None, None, true)
            .map_err(|e| format!("https client: {e}"))
    })
    .clone()
}

fn client() -> Result<&'static Pooled, String> {
    static C: OnceLock<Result<Pooled, String>> = OnceLock::new();
    C.get_or_init(|| {
        let _rt = node().io().enter();
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config((*tls_config()?).clone())
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Ok(Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(https))
    })
    .as_ref()
    .map_err(|e| e.clone())
}

/// One request on a connection of its own to `addr` (TLS to the URL's host for https).
async fn send_direct(
    req: Request<Full<Bytes>>,
    addr: SocketAddr,
    tls: bool,
) -> Result<Response<Incoming>, String> {
    let tcp = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect {addr}: {e}"))?;
    let _ = tcp.set_nodelay(true);
    if !tls {
        return exchange(TokioIo::new(tcp), req).await;
    }
    let host = req
        .uri()
        .host()
        .unwrap_or_default()
        .trim_matches(['[', ']']);
    let name = rustls::pki_types::ServerName::try_from(host.to_string())
        .map_err(|e| format!("tls server name {host:?}: {e}"))?;
    let stream = tokio_rustls::TlsConnector::from(tls_config()?)
        .connect(name, tcp)
        .await
        .map_err(|e| format!("tls handshake with {addr}: {e}"))?;
    exchange(TokioIo::new(stream), req).await
}

async fn exchange<T>(io: T, mut req: Request<Full<Bytes>>) -> Result<Response<Incoming>, String>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut send, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::debug!("httpc connection: {e}");
        }
    });
    // origin-form on the wire, the authority in Host (as the pooled client sends them)
    if !req.headers().contains_key(hyper::header::HOST) {
        if let Some(a) = req.uri().authority() {
            let v = HeaderValue::from_str(a.as_str()).map_err(|e| e.to_string())?;
            req.headers_mut().insert(hyper::header::HOST, v);
        }
    }
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/")
        .parse::<Uri>()
        .map_err(|e| e.to_string())?;
    *req.uri_mut() = path;
    send.send_request(req).await.map_err(|e| e.to_string())
}

async fn fetch(
    method: Method,
    uri: Uri,
    headers: Vec<(String, String)>,
    body: Bytes,
    limit: Duration,
    direct: Option<SocketAddr>,
) -> Result<Vec<u8>, String> {
    let what = format!("{method} {uri}");
    let tls = uri.scheme_str() == Some("https");
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(k, v);
    }
    let req = req
        .body(Full::new(body))
        .map_err(|e| format!("{what}: {e}"))?;
    let work = async {
        let resp = match direct {
            Some(addr) => send_direct(req, addr, tls).await,
            None => client()
                .map_err(|e| format!("{what}: {e}"))?
                .request(req)
                .await
                .map_err(|e| error_chain(&e)),
        }
        .map_err(|e| format!("{what}: {e}"))?;
        let status = resp.status().as_u16();
        let mut hs: Vec<(SValue, SValue)> = Vec::new();
        for (k, v) in resp.headers() {
            hs.push((
                str_sv(k.as_str()),
                SValue::Str(Bytes::copy_from_slice(v.as_bytes())),
            ));
        }
        let body = Limited::new(resp.into_body(), MAX_RESPONSE_BODY)
            .collect()
            .await
            .map_err(|e| format!("{what}: reading body: {e}"))?
            .to_bytes();
        Ok(pack_svalues(&[
            SValue::Int(status as i64),
            SValue::Str(body),
            SValue::Table(STable {
                array: vec![],
                hash: hs,
            }),
        ]))
    };
    match tokio::time::timeout(limit, work).await {
        Ok(r) => r,
        Err(_) => Err(format!("{what}: timed out after {} ms", limit.as_millis())),
    }
}

/// An error with its causes ("client error (Connect): tls handshake eof"): hyper's own text
/// alone hides why a TLS connection failed.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

/// `http.core`.
pub fn open(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    // listen(host, port, max_body, timeout_seconds) -> server
    t.set(
        "listen",
        lua.create_function(
            |_, (host, port, max_body, timeout): (String, Option<u16>, Option<usize>, Option<f64>)| {
                let opts = Opts {
                    max_body: max_body.unwrap_or(DEFAULT_MAX_BODY),
                    timeout: timeout
                        .filter(|t| *t > 0.0)
                        .map(Duration::from_secs_f64)
                        .unwrap_or(DEFAULT_HANDLER_TIMEOUT),
                };
                listen(&host, port.unwrap_or(0), opts).map_err(|e| mlua::Error::runtime(e.to_string()))
            },
        )?,
    )?;
    // respond(id, status, body, headers) -> false if the client is gone
    t.set(
        "respond",
        lua.create_function(
            |_, (id, status, body, headers): (u64, u16, Option<mlua::LuaString>, Option<Table>)| {
                let Some(tx) = WAITING.lock().remove(&id) else {
                    return Ok(false);
                };
                let body = body
                    .map(|b| Bytes::copy_from_slice(&b.as_bytes()))
                    .unwrap_or_default();
                Ok(tx
                    .send(Reply {
                        status,
                        headers: headers_arg(headers)?,
                        body,
                    })
                    .is_ok())
            },
        )?,
    )?;
    // request(method, url, headers, body, timeout_cs [, "ip:port"]) -> session: status, body,
    // headers
    t.set(
        "request",
        lua.create_function(
            |lua,
             (method, url, headers, body, timeout, connect): (
                String,
                String,
                Option<Table>,
                Option<mlua::LuaString>,
                Option<u64>,
                Option<String>,
            )| {
                let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes())
                    .map_err(|e| mlua::Error::runtime(format!("invalid method {method}: {e}")))?;
                let uri: Uri = url
                    .parse()
                    .map_err(|e| mlua::Error::runtime(format!("invalid url {url}: {e}")))?;
                match uri.scheme_str() {
                    Some("http" | "https") => {}
                    Some(other) => {
                        return Err(mlua::Error::runtime(format!("Invalid protocol: {other}")))
                    }
                    None => {
                        return Err(mlua::Error::runtime(format!("url {url} needs http://host")))
                    }
                }
                let headers = headers_arg(headers)?;
                let body = body
                    .map(|b| Bytes::copy_from_slice(&b.as_bytes()))
                    .unwrap_or_default();
                let limit = Duration::from_millis(timeout.unwrap_or(DEFAULT_CLIENT_CS).max(1) * 10);
                let direct = connect
                    .map(|a| {
                        a.parse::<SocketAddr>().map_err(|e| {
                            mlua::Error::runtime(format!("invalid connect address {a}: {e}"))
                        })
                    })
                    .transpose()?;
                spawn_io(lua, fetch(method, uri, headers, body, limit, direct))
            },
        )?,
    )?;
    Ok(t)
}
