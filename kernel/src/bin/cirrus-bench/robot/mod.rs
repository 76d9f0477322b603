//! `cirrus-bench robot`: game-playing bots on the Rust game client (`cirrus::gameclient`).
//!
//! Bots connect at `--rate` per second, each logs in and runs the scenario until
//! `--duration` seconds after the first connect, then winds down (leaves its desk and room, logs
//! out) within `--grace` seconds. The report has per-request latency percentiles, games and
//! messages per second, errors by code and kind, `ud` continuity and settlement checks.

mod bot;
mod play;
mod settle;
mod stats;
#[cfg(test)]
mod tests;

use bot::{Bot, Ctx};
use cirrus::gameclient::{KeyCache, Options, Response, Transport};
use indicatif::{ProgressBar, ProgressStyle};
use stats::{Meta, Report, Stats};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub enum Scenario {
    /// Log in, player_info, log out, reconnect: logins per second
    Login,
    /// Enter a room, sit at a desk and play rounds
    Play,
    /// Hall chat within the rate limit, history now and then
    Chat,
    /// Play, with desk chat now and then
    Full,
    /// Log in and only send heartbeats (memory per connected player)
    Idle,
    /// Play, dropping the connection at random moments and reconnecting: every packet
    /// replayed once, in order (see --drop-every, --drop-share)
    Reconnect,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub enum LoginMode {
    /// visitor_login with a per-run device id
    Visitor,
    /// register on first use, then the auth_challenge / auth_proof / login handshake
    Account,
}

#[derive(clap::Args, Clone, Debug)]
pub struct RobotArgs {
    /// host:port of a gate (default 127.0.0.1:8888, or 127.0.0.1:8889 with --ws)
    #[arg(long)]
    pub addr: Option<String>,
    /// WebSocket (binary messages) instead of 2-byte length framed TCP
    #[arg(long)]
    pub ws: bool,
    /// Number of bots
    #[arg(long, default_value_t = 10)]
    pub bots: usize,
    /// Seconds of load, from the first connect
    #[arg(long, default_value_t = 30.0)]
    pub duration: f64,
    #[arg(long, value_enum, default_value_t = Scenario::Play)]
    pub scenario: Scenario,
    #[arg(long, value_enum, default_value_t = LoginMode::Visitor)]
    pub login: LoginMode,
    /// Room to enter (default: the first of room_list the bot can afford)
    #[arg(long)]
    pub room: Option<i64>,
    /// New connections per second while ramping up
    #[arg(long, default_value_t = 500.0)]
    pub rate: f64,
    /// Longest random think time before each move, in ms (0: act at once)
    #[arg(long, default_value_t = 200)]
    pub think: u64,
    /// Seconds between heartbeats
    #[arg(long, default_value_t = 3.0)]
    pub heartbeat: f64,
    /// Seconds between hall chat messages per bot (chat scenario; the server allows 1/s)
    #[arg(long, default_value_t = 1.0)]
    pub chat_interval: f64,
    /// Print the report as one JSON object
    #[arg(long)]
    pub json: bool,
    /// Seed of the bots' random moves (default: random, printed in the report)
    #[arg(long)]
    pub seed: Option<u64>,
    /// Name prefix for device ids and accounts (default: random per run, so every run makes
    /// new players; fix it to reuse players across runs)
    #[arg(long)]
    pub prefix: Option<String>,
    /// Exit 0 even when there were errors
    #[arg(long)]
    pub allow_errors: bool,
    /// The server's fee on winnings, in percent (settlement check)
    #[arg(long, default_value_t = 5)]
    pub fee_percent: i64,
    /// Seconds a request may wait for its answer
    #[arg(long, default_value_t = 30.0)]
    pub timeout: f64,
    /// Seconds the bots get to wind down after --duration
    #[arg(long, default_value_t = 30.0)]
    pub grace: f64,
    /// Client IO threads
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Server process id: report its resident memory with every bot connected
    #[arg(long)]
    pub pid: Option<u32>,
    /// Print every request, answer and push of this bot to stderr (debugging)
    #[arg(long)]
    pub trace: Option<usize>,
    /// Reconnect scenario: mean seconds between two drops of one bot (random, exponential)
    #[arg(long, default_value_t = 20.0)]
    pub drop_every: f64,
    /// Reconnect scenario: the share of bots that drop (the others play on)
    #[arg(long, default_value_t = 1.0)]
    pub drop_share: f64,
}

impl RobotArgs {
    pub fn addr(&self) -> &str {
        self.addr.as_deref().unwrap_or("127.0.0.1:8888")
    }
}

/// Run the robot; the process exit code is non-zero when there were errors (unless
/// `--allow-errors`).
pub fn main(mut a: RobotArgs) -> anyhow::Result<()> {
    if a.addr.is_none() {
        let port = if a.ws { 8889 } else { 8888 };
        a.addr = Some(format!("127.0.0.1:{port}"));
    }
    anyhow::ensure!(a.bots > 0, "--bots must be at least 1");
    anyhow::ensure!(a.duration > 0.0, "--duration must be positive");
    anyhow::ensure!(a.rate > 0.0, "--rate must be positive");
    anyhow::ensure!(a.heartbeat > 0.0, "--heartbeat must be positive");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(a.threads.max(1))
        // PBKDF2 for account logins: a couple of threads, not hundreds fighting for 2 cores.
        .max_blocking_threads(2)
        .enable_all()
        .build()?;
    let report = rt.block_on(run(a.clone()))?;
    if a.json {
        println!("{}", report.json());
    } else {
        print!("{}", report.text());
    }
    if report.errors() > 0 && !a.allow_errors {
        std::process::exit(1);
    }
    Ok(())
}

fn random_u64() -> anyhow::Result<u64> {
    let b = cirrus::crypt::random_bytes(8).map_err(anyhow::Error::msg)?;
    Ok(u64::from_le_bytes(b.try_into().expect("8 bytes")))
}

fn progress(a: &RobotArgs) -> ProgressBar {
    if a.json {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new((a.duration * 1000.0) as u64);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {msg}")
            .expect("template")
            .progress_chars("=> "),
    );
    bar
}

async fn run(a: RobotArgs) -> anyhow::Result<Report> {
    let seed = match a.seed {
        Some(s) => s,
        None => random_u64()?,
    };
    let prefix = match &a.prefix {
        Some(p) => p.clone(),
        None => format!("r{:08x}", random_u64()? as u32),
    };
    let stats = Arc::new(Stats::default());
    let observer = {
        let stats = stats.clone();
        Arc::new(move |r: &Response| stats.latency(&r.name, r.latency))
    };
    let opts = Options {
        transport: if a.ws {
            Transport::WebSocket
        } else {
            Transport::Tcp
        },
        connect_timeout: Duration::from_secs(10),
        request_timeout: Duration::from_secs_f64(a.timeout),
        observer: Some(observer),
        resume_from: None,
        first_session: None,
    };
    let t0 = Instant::now();
    let load = Duration::from_secs_f64(a.duration);
    let ctx = Arc::new(Ctx {
        args: a.clone(),
        stats: stats.clone(),
        keys: KeyCache::new(),
        prefix,
        seed,
        deadline: t0 + load,
        opts,
    });

    let bar = progress(&a);
    let ticker = {
        let (bar, stats) = (bar.clone(), stats.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(250));
            loop {
                tick.tick().await;
                let c = &stats.c;
                let pos = t0.elapsed().min(load).as_millis() as u64;
                bar.set_position(pos);
                let tail = if t0.elapsed() >= load {
                    "  (winding down)"
                } else {
                    ""
                };
                bar.set_message(format!(
                    "connected {}  in game {}  games {}  errors {}{tail}",
                    c.connected.load(Relaxed),
                    c.in_game.load(Relaxed),
                    c.games.load(Relaxed),
                    c.errors.load(Relaxed),
                ));
            }
        })
    };

    let mut bots = tokio::task::JoinSet::new();
    let mut spawned = 0;
    for i in 0..a.bots {
        let at = t0 + Duration::from_secs_f64(i as f64 / a.rate);
        if at >= ctx.deadline {
            break;
        }
        tokio::time::sleep_until(at).await;
        bots.spawn(Bot::new(i, ctx.clone()).run());
        spawned += 1;
    }
    let ramp = t0.elapsed().as_secs_f64();
    tokio::time::sleep_until(ctx.deadline).await;
    // At the deadline every bot is still connected: the server's memory under full load.
    let rss = a.pid.and_then(crate::rss_mib);
    let connected = stats.c.connected.load(Relaxed).max(0) as u64;
    let grace = Duration::from_secs_f64(a.grace.max(0.0));
    let all_done = async {
        while let Some(r) = bots.join_next().await {
            if let Err(e) = r {
                stats.failure("bot task", || e.to_string());
            }
        }
    };
    if tokio::time::timeout(grace, all_done).await.is_err() {
        stats.c.unfinished.store(bots.len() as u64, Relaxed);
        bots.abort_all();
    }
    ticker.abort();
    bar.finish_and_clear();
    if spawned < a.bots {
        eprintln!(
            "warning: only {spawned} of {} bots started within --duration at --rate {}",
            a.bots, a.rate
        );
    }
    let meta = Meta {
        scenario: format!("{:?}", a.scenario).to_lowercase(),
        addr: a.addr().to_string(),
        transport: if a.ws { "websocket" } else { "tcp" },
        login: match a.login {
            LoginMode::Visitor => "visitor",
            LoginMode::Account => "account",
        },
        bots: spawned,
        seed,
        elapsed: load.as_secs_f64(),
        ramp,
        server_rss: rss.map(|(rss, hwm)| (a.pid.unwrap_or(0), rss, hwm, connected)),
    };
    Ok(stats.report(&meta))
}
