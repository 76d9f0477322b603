//! `GET /metrics` over hyper on the node's IO runtime.

use crate::node::node;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

async fn handle(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let (status, body) = match (req.method(), req.uri().path()) {
        (&Method::GET | &Method::HEAD, "/metrics") => {
            // Reading the registry and every slot is quick; keep it off the IO threads anyway.
            let text = tokio::task::spawn_blocking(super::render)
                .await
                .unwrap_or_else(|e| format!("# render failed: {e}\n"));
            (StatusCode::OK, text)
        }
        (_, "/metrics") => (StatusCode::METHOD_NOT_ALLOWED, "GET /metrics\n".into()),
        _ => (StatusCode::NOT_FOUND, "metrics are at /metrics\n".into()),
    };
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(CONTENT_TYPE),
    );
    Ok(r)
}

/// Listen on `address:port` (port 0: any free one) and serve scrapes; returns the bound address.
/// Binds before returning, so a taken port is a start-up error.
pub fn serve(address: &str, port: u16) -> anyhow::Result<SocketAddr> {
    let std_listener = std::net::TcpListener::bind((address, port))
        .map_err(|e| anyhow::anyhow!("metrics: cannot listen on {address}:{port}: {e}"))?;
    std_listener.set_nonblocking(true)?;
    let local = std_listener.local_addr()?;
    let _guard = node().io().enter();
    let listener = tokio::net::TcpListener::from_std(std_listener)?;
    node().io().spawn(async move {
        loop {
            let stream = match listener.accept().await {
                Ok((s, _)) => s,
                Err(e) => {
                    tracing::warn!("metrics accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            tokio::spawn(async move {
                let conn = http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(stream), service_fn(handle));
                if let Err(e) = conn.await {
                    tracing::debug!("metrics connection: {e}");
                }
            });
        }
    });
    tracing::info!("metrics at http://{local}/metrics");
    Ok(local)
}
