//! cirrus-bench: load generators and tools for Cirrus nodes.
//!
//!   cirrus-bench echo --addr 127.0.0.1:8888 --conns 1000 --duration 10
//!   cirrus-bench echo --addr 127.0.0.1:8889 --ws --conns 10000 --pid $(pgrep -n cirrus)
//!   cirrus-bench talk 127.0.0.1:8888
//!   cirrus-bench robot --addr 127.0.0.1:8888 --bots 1000 --duration 60 --scenario play
//!
//! `echo` drives a gate whose agents echo frames back (examples/config/echo.lua): every connection keeps
//! `--pipeline` frames in flight, each carrying its send time, and reports echoes per second
//! and latency percentiles measured after a warm-up.
//!
//! `robot` plays the game of docs/PROTOCOL.md against a game node (`./start.sh`, ports 8888
//! TCP and 8889 WebSocket), one bot per connection, on `cirrus::gameclient`:
//!
//!   cirrus-bench robot --bots 20 --duration 30 --scenario play          # play rounds
//!   cirrus-bench robot --bots 500 --duration 20 --scenario login        # visitor logins/s
//!   cirrus-bench robot --bots 100 --duration 20 --scenario login --login account
//!   cirrus-bench robot --bots 200 --duration 30 --scenario chat         # hall chat
//!   cirrus-bench robot --bots 100 --duration 60 --scenario full --ws    # play + desk chat
//!   cirrus-bench robot --bots 10000 --duration 60 --scenario idle --pid $(pgrep -n cirrus)
//!   cirrus-bench robot ... --json > report.json                         # machine-readable
//!   cirrus-bench robot --bots 2 --duration 10 --trace 0                 # show bot 0's packets
//!
//! Scenarios: `login` (log in, player_info, log out, reconnect, repeat), `play` (room_list,
//! room_enter `--room` or the first affordable room, desk_join any desk, desk_ready; bid,
//! bet and open as the desk's pushes ask, after a random think time of up to `--think` ms;
//! every settlement is checked), `chat` (hall chat every `--chat-interval` s, history now
//! and then), `full` (play plus desk chat), `idle` (heartbeats only). Every bot sends a
//! heartbeat each `--heartbeat` seconds. `--login account` registers `<prefix>_<n>` when the
//! server does not know the account, then logs in with the password handshake. Bots connect
//! at `--rate` per second. The report: per-request count and p50/p90/p99/max latency, logins,
//! games and messages per second, errors by code (docs/PROTOCOL.md names), connection errors,
//! `ud` gaps and duplicates, settlement and balance mismatches. Exit code 1 when anything
//! went wrong, unless `--allow-errors`.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use clap::{Parser, Subcommand};
use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;

#[path = "cirrus-bench/robot/mod.rs"]
mod robot;

#[derive(Parser)]
#[command(
    name = "cirrus-bench",
    version,
    about = "Load generators and client tools for Cirrus nodes"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Echo load through a gate: messages/s and latency percentiles
    Echo(EchoArgs),
    /// Interactive client: stdin lines go out as frames, frames received are printed
    Talk {
        /// host:port of a gate
        addr: String,
        /// WebSocket instead of 2-byte length framed TCP
        #[arg(long)]
        ws: bool,
    },
    /// Game bots against a game node: login, play, chat, full or idle scenarios
    Robot(robot::RobotArgs),
}

#[derive(clap::Args, Clone)]
struct EchoArgs {
    /// host:port of the gate
    #[arg(long, default_value = "127.0.0.1:8888")]
    addr: String,
    /// WebSocket (binary messages) instead of 2-byte length framed TCP
    #[arg(long)]
    ws: bool,
    /// Concurrent connections
    #[arg(long, default_value_t = 1000)]
    conns: usize,
    /// Seconds of load after the warm-up
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Seconds of load before measuring
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Stop each connection after sending this many frames instead (0 = use --duration)
    #[arg(long, default_value_t = 0)]
    msgs: u64,
    /// Frame payload size in bytes (at least 8: the send time)
    #[arg(long, default_value_t = 32)]
    size: usize,
    /// Frames in flight per connection
    #[arg(long, default_value_t = 1)]
    pipeline: usize,
    /// Open loop: total frames per second offered, whatever the echoes do (0 = closed loop)
    #[arg(long, default_value_t = 0.0)]
    rate: f64,
    /// Open loop: each connection sends what is due every this many milliseconds (at least
    /// one frame's interval)
    #[arg(long, default_value_t = 5.0)]
    tick_ms: f64,
    /// Client IO threads
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Server process id: report its resident memory
    #[arg(long)]
    pid: Option<u32>,
    /// Connects in flight while connecting
    #[arg(long, default_value_t = 256)]
    connect_batch: usize,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    raise_nofile();
    match cli.cmd {
        Cmd::Echo(a) => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(a.threads.max(1))
                .enable_all()
                .build()?;
            rt.block_on(echo(a))
        }
        Cmd::Talk { addr, ws } => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(talk(addr, ws))
        }
        Cmd::Robot(a) => robot::main(a),
    }
}

fn raise_nofile() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain libc calls on a stack struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

/// Resident and peak resident memory of a process, in MiB.
fn rss_mib(pid: u32) -> Option<(f64, f64)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        s.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
    };
    Some((field("VmRSS:")? / 1024.0, field("VmHWM:")? / 1024.0))
}

enum Conn {
    Tcp(TcpStream),
    Ws(Box<tokio_tungstenite::WebSocketStream<TcpStream>>),
}

async fn connect(addr: &str, ws: bool) -> anyhow::Result<Conn> {
    let mut tries = 0;
    let stream = loop {
        match TcpStream::connect(addr).await {
            Ok(s) => break s,
            // A burst of connects can overflow the listen backlog: retry briefly.
            Err(e) if tries < 20 => {
                tries += 1;
                if tries == 20 {
                    anyhow::bail!("connect {addr}: {e}");
                }
                tokio::time::sleep(Duration::from_millis(50 * tries)).await;
            }
            Err(e) => anyhow::bail!("connect {addr}: {e}"),
        }
    };
    stream.set_nodelay(true)?;
    if ws {
        let (s, _) = tokio_tungstenite::client_async(format!("ws://{addr}/"), stream).await?;
        Ok(Conn::Ws(Box::new(s)))
    } else {
        Ok(Conn::Tcp(stream))
    }
}

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    echoes: u64,
    bad: u64,
}

/// What each connection shares with the others.
struct Plan {
    t0: Instant,
    measure_from: Duration,
    stop_at: Duration,
    msgs: u64,
    size: usize,
    pipeline: usize,
    /// Open loop: frames per second per connection (0 = closed loop, `pipeline` in flight).
    per_conn_rate: f64,
    tick: Duration,
    conns: usize,
}

impl Plan {
    fn payload(&self) -> Bytes {
        let mut b = BytesMut::with_capacity(self.size);
        b.put_u64(self.t0.elapsed().as_nanos() as u64);
        b.resize(self.size, b'x');
        b.freeze()
    }

    /// Whether another frame may be sent, given how many this connection sent already.
    fn sending(&self, sent: u64) -> bool {
        if self.msgs > 0 {
            sent < self.msgs
        } else {
            self.t0.elapsed() < self.stop_at
        }
    }

    fn record(&self, t: &mut Tally, frame: &[u8]) {
        t.echoes += 1;
        if frame.len() != self.size {
            t.bad += 1;
            return;
        }
        let sent =
            Duration::from_nanos(u64::from_be_bytes(frame[..8].try_into().expect("8 bytes")));
        if sent >= self.measure_from && (self.msgs > 0 || sent < self.stop_at) {
            let now = self.t0.elapsed();
            t.latencies_us
                .push(now.saturating_sub(sent).as_micros().min(u32::MAX as u128) as u32);
        }
    }
}

type WsStream = tokio_tungstenite::WebSocketStream<TcpStream>;

/// The receiving half of a connection: whole frames, whatever the transport.
enum Rx {
    Tcp(tokio::net::tcp::OwnedReadHalf, BytesMut),
    Ws(futures_util::stream::SplitStream<WsStream>),
}

impl Rx {
    /// Wait for at least one frame and append every complete one to `out` (cancel-safe).
    async fn frames(&mut self, out: &mut Vec<Bytes>) -> anyhow::Result<()> {
        match self {
            Rx::Tcp(r, buf) => loop {
                while buf.len() >= 2 {
                    let len = u16::from_be_bytes([buf[0], buf[1]]) as usize;
                    if buf.len() < 2 + len {
                        break;
                    }
                    buf.advance(2);
                    out.push(buf.split_to(len).freeze());
                }
                if !out.is_empty() {
                    return Ok(());
                }
                if r.read_buf(buf).await? == 0 {
                    anyhow::bail!("server closed the connection");
                }
            },
            Rx::Ws(r) => loop {
                match r.next().await {
                    Some(Ok(WsMessage::Binary(b))) => {
                        out.push(b);
                        return Ok(());
                    }
                    Some(Ok(WsMessage::Close(_))) | None => {
                        anyhow::bail!("server closed the connection")
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Err(e.into()),
                }
            },
        }
    }
}

/// The sending half: frames are queued with `push` and written together by `flush`.
enum Tx {
    Tcp(tokio::net::tcp::OwnedWriteHalf, BytesMut),
    Ws(
        futures_util::stream::SplitSink<WsStream, WsMessage>,
        Vec<Bytes>,
    ),
}

impl Tx {
    fn push(&mut self, p: Bytes) {
        match self {
            Tx::Tcp(_, out) => {
                out.put_u16(p.len() as u16);
                out.put_slice(&p);
            }
            Tx::Ws(_, out) => out.push(p),
        }
    }

    async fn flush(&mut self) -> anyhow::Result<()> {
        match self {
            Tx::Tcp(w, out) => {
                if !out.is_empty() {
                    w.write_all(out).await?;
                    out.clear();
                }
            }
            Tx::Ws(w, out) => {
                if !out.is_empty() {
                    for p in out.drain(..) {
                        w.feed(WsMessage::Binary(p)).await?;
                    }
                    w.flush().await?;
                }
            }
        }
        Ok(())
    }
}

async fn drive(conn: Conn, plan: Arc<Plan>, index: usize) -> anyhow::Result<Tally> {
    let (mut rx, mut tx) = match conn {
        Conn::Tcp(s) => {
            let (r, w) = s.into_split();
            (
                Rx::Tcp(r, BytesMut::with_capacity(4096)),
                Tx::Tcp(w, BytesMut::new()),
            )
        }
        Conn::Ws(ws) => {
            let (w, r) = (*ws).split();
            (Rx::Ws(r), Tx::Ws(w, Vec::new()))
        }
    };
    let open_loop = plan.per_conn_rate > 0.0;
    let mut t = Tally::default();
    let (mut sent, mut inflight) = (0u64, 0u64);
    let mut frames = Vec::new();
    // No tick without a frame due: 10,000 timers firing for nothing would load the client.
    let period = if open_loop {
        plan.tick
            .max(Duration::from_secs_f64(1.0 / plan.per_conn_rate))
    } else {
        plan.tick
    };
    if open_loop {
        // Spread connections over one period so they don't send in lockstep.
        tokio::time::sleep(period.mul_f64(index as f64 / plan.conns as f64)).await;
    } else {
        while sent < plan.pipeline as u64 && plan.sending(sent) {
            tx.push(plan.payload());
            sent += 1;
            inflight += 1;
        }
        tx.flush().await?;
    }
    let started = plan.t0.elapsed();
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let more = plan.sending(sent);
        if !more && inflight == 0 {
            break;
        }
        tokio::select! {
            _ = tick.tick(), if open_loop && more => {
                let due = ((plan.t0.elapsed() - started).as_secs_f64() * plan.per_conn_rate) as u64 + 1;
                while sent < due && plan.sending(sent) {
                    tx.push(plan.payload());
                    sent += 1;
                    inflight += 1;
                }
                tx.flush().await?;
            }
            r = tokio::time::timeout(Duration::from_secs(10), rx.frames(&mut frames)) => {
                r.map_err(|_| anyhow::anyhow!("no echo for 10 s"))??;
                for f in frames.drain(..) {
                    plan.record(&mut t, &f);
                    inflight = inflight.saturating_sub(1);
                    if !open_loop && plan.sending(sent) {
                        tx.push(plan.payload());
                        sent += 1;
                        inflight += 1;
                    }
                }
                tx.flush().await?;
            }
        }
    }
    if let Tx::Ws(mut w, _) = tx {
        let _ = w.close().await;
    }
    Ok(t)
}

fn pct(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

async fn echo(a: EchoArgs) -> anyhow::Result<()> {
    anyhow::ensure!(a.size >= 8 && a.size <= 65535, "--size must be 8..65535");
    anyhow::ensure!(a.pipeline >= 1, "--pipeline must be at least 1");
    let proto = if a.ws { "websocket" } else { "tcp" };
    let load = if a.rate > 0.0 {
        format!("open loop at {:.0} frames/s", a.rate)
    } else {
        format!("pipeline {}", a.pipeline)
    };
    println!(
        "cirrus-bench echo: {} {proto} connections to {}, {}-byte frames, {load}, {} client thread(s)",
        a.conns, a.addr, a.size, a.threads
    );
    let before = a.pid.and_then(rss_mib);
    let t_conn = Instant::now();
    let mut conns = Vec::with_capacity(a.conns);
    let sem = Arc::new(tokio::sync::Semaphore::new(a.connect_batch.max(1)));
    let mut pending = Vec::with_capacity(a.conns);
    for _ in 0..a.conns {
        let addr = a.addr.clone();
        let sem = sem.clone();
        pending.push(tokio::spawn(async move {
            let _permit = sem.acquire_owned().await;
            connect(&addr, a.ws).await
        }));
    }
    for p in pending {
        conns.push(p.await??);
    }
    println!(
        "  connected {} in {:.2} s",
        conns.len(),
        t_conn.elapsed().as_secs_f64()
    );
    // Let the server finish its per-connection setup (agents, forward) before measuring.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after_connect = a.pid.and_then(rss_mib);

    let plan = Arc::new(Plan {
        t0: Instant::now(),
        measure_from: Duration::from_secs_f64(a.warmup),
        stop_at: Duration::from_secs_f64(a.warmup + a.duration),
        msgs: a.msgs,
        size: a.size,
        pipeline: a.pipeline,
        per_conn_rate: a.rate / a.conns.max(1) as f64,
        tick: Duration::from_secs_f64(a.tick_ms / 1000.0),
        conns: a.conns.max(1),
    });
    let tasks: Vec<_> = conns
        .into_iter()
        .enumerate()
        .map(|(i, c)| tokio::spawn(drive(c, plan.clone(), i)))
        .collect();
    let mut all = Tally::default();
    let mut failed = 0usize;
    let mut first_err = None;
    for t in tasks {
        match t.await? {
            Ok(t) => {
                all.echoes += t.echoes;
                all.bad += t.bad;
                all.latencies_us.extend(t.latencies_us);
            }
            Err(e) => {
                failed += 1;
                first_err.get_or_insert(e);
            }
        }
    }
    let total = plan.t0.elapsed();
    let mut lat = all.latencies_us;
    lat.sort_unstable();
    let window = if a.msgs > 0 {
        total.saturating_sub(plan.measure_from)
    } else {
        Duration::from_secs_f64(a.duration)
    };
    let rate = lat.len() as f64 / window.as_secs_f64().max(1e-9);
    println!(
        "  echoes: {} total, {} measured over {:.2} s",
        all.echoes,
        lat.len(),
        window.as_secs_f64()
    );
    println!("  messages/s: {rate:.0}");
    println!(
        "  latency ms: p50 {:.2}  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}",
        pct(&lat, 0.50),
        pct(&lat, 0.90),
        pct(&lat, 0.99),
        pct(&lat, 0.999),
        pct(&lat, 1.0)
    );
    if let Some(pid) = a.pid {
        let end = rss_mib(pid);
        let show = |r: Option<(f64, f64)>| {
            r.map(|(rss, _)| format!("{rss:.1} MiB"))
                .unwrap_or_else(|| "?".into())
        };
        println!(
            "  server {pid} RSS: {} before, {} with {} connections, {} after load; peak {}",
            show(before),
            show(after_connect),
            a.conns,
            show(end),
            end.map(|(_, hwm)| format!("{hwm:.1} MiB"))
                .unwrap_or_else(|| "?".into())
        );
    }
    if all.bad > 0 {
        println!("  WARNING: {} echoes had the wrong size", all.bad);
    }
    if failed > 0 {
        anyhow::bail!(
            "{failed} connections failed; first: {:#}",
            first_err.expect("an error was recorded")
        );
    }
    Ok(())
}

async fn talk(addr: String, ws: bool) -> anyhow::Result<()> {
    let conn = connect(&addr, ws).await?;
    eprintln!(
        "connected to {addr} ({}); type lines, Ctrl-D to quit",
        if ws { "websocket" } else { "tcp" }
    );
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let show = |b: &[u8]| println!("< {}", String::from_utf8_lossy(b));
    match conn {
        Conn::Tcp(s) => {
            let (mut r, mut w) = s.into_split();
            let mut buf = BytesMut::new();
            loop {
                tokio::select! {
                    line = rx.recv() => match line {
                        Some(l) => {
                            anyhow::ensure!(l.len() <= 65535, "line too long for one frame");
                            let mut f = BytesMut::with_capacity(l.len() + 2);
                            f.put_u16(l.len() as u16);
                            f.put_slice(l.as_bytes());
                            w.write_all(&f).await?;
                        }
                        None => return Ok(()),
                    },
                    n = r.read_buf(&mut buf) => {
                        if n? == 0 {
                            eprintln!("server closed the connection");
                            return Ok(());
                        }
                        while buf.len() >= 2 {
                            let len = u16::from_be_bytes([buf[0], buf[1]]) as usize;
                            if buf.len() < 2 + len {
                                break;
                            }
                            buf.advance(2);
                            show(&buf.split_to(len));
                        }
                    }
                }
            }
        }
        Conn::Ws(mut s) => loop {
            tokio::select! {
                line = rx.recv() => match line {
                    Some(l) => s.send(WsMessage::Binary(Bytes::from(l))).await?,
                    None => return Ok(()),
                },
                m = s.next() => match m {
                    Some(Ok(WsMessage::Binary(b))) => show(&b),
                    Some(Ok(WsMessage::Text(t))) => show(t.as_bytes()),
                    Some(Ok(WsMessage::Close(_))) | None => {
                        eprintln!("server closed the connection");
                        return Ok(());
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Err(e.into()),
                },
            }
        },
    }
}
