//! One bot: connects, logs in (visitor, or account with registration on first use), keeps
//! heartbeats going and runs its scenario until the deadline; a session that fails is counted
//! and started again on a new connection.

use super::stats::Stats;
use super::{LoginMode, RobotArgs, Scenario};
use cirrus::gameclient::{
    codes, Client, ClientError, KeyCache, Login, Options, Push, Pushes, Response,
};
use cirrus::sproto::Struct;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;
use tokio::time::Instant as Deadline;

/// What every bot shares.
pub struct Ctx {
    pub args: RobotArgs,
    pub stats: Arc<Stats>,
    pub keys: KeyCache,
    /// Names devices and accounts of this run.
    pub prefix: String,
    pub seed: u64,
    /// When the load ends and the bots wind down.
    pub deadline: Deadline,
    pub opts: Options,
}

/// How a session ended.
pub enum Flow {
    /// Start another session right away (the login scenario).
    Again,
    /// The scenario ran to the deadline.
    Done,
}

pub type Result<T> = std::result::Result<T, ClientError>;

pub struct Bot {
    pub id: usize,
    pub ctx: Arc<Ctx>,
    pub rng: SmallRng,
    /// The player's balance as last seen (login, then settlements).
    pub gold: Option<i64>,
    pub uid: i64,
    /// The reconnect token of the current login.
    pub token: String,
    /// The gate a `redirect` named (a draining gate sends its players on).
    pub addr: Option<String>,
    hb: Option<Heartbeat>,
}

/// Heartbeats every `--heartbeat` seconds for as long as this lives.
struct Heartbeat(JoinHandle<()>);

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Bot {
    pub fn new(id: usize, ctx: Arc<Ctx>) -> Bot {
        let rng = SmallRng::seed_from_u64(ctx.seed.wrapping_add(id as u64));
        Bot {
            id,
            ctx,
            rng,
            gold: None,
            uid: 0,
            token: String::new(),
            addr: None,
            hb: None,
        }
    }

    pub fn stats(&self) -> &Stats {
        &self.ctx.stats
    }

    pub fn ended(&self) -> bool {
        Deadline::now() >= self.ctx.deadline
    }

    /// Sessions until the deadline.
    pub async fn run(mut self) {
        while !self.ended() {
            match self.session().await {
                Ok(Flow::Again) => {}
                Ok(Flow::Done) => break,
                Err(e) => {
                    // Codes are counted where they are answered; the rest here.
                    if e.code().is_none() {
                        self.stats().error(&e);
                    }
                    let retry = Deadline::now() + Duration::from_secs(1);
                    tokio::time::sleep_until(retry.min(self.ctx.deadline)).await;
                }
            }
        }
    }

    async fn session(&mut self) -> Result<Flow> {
        let t = Instant::now();
        let (mut client, mut pushes) =
            Client::connect(self.ctx.args.addr(), &self.ctx.opts).await?;
        self.stats().latency("@connect", t.elapsed());
        let stats = self.ctx.stats.clone();
        let _connected = stats.connected();
        let r = self.scenario(&mut client, &mut pushes).await;
        self.hb = None;
        stats.connection(&client.stats(), client.last_bad_packet());
        r
    }

    async fn scenario(&mut self, client: &mut Client, pushes: &mut Pushes) -> Result<Flow> {
        // Heartbeats from the start: a login may wait long in the server's queue.
        self.hb = Some(self.heartbeat(client));
        self.login(client).await?;
        let flow = match self.ctx.args.scenario {
            Scenario::Login => {
                self.must(client, "player_info", Struct::new()).await?;
                Flow::Again
            }
            Scenario::Idle => {
                self.idle(client, pushes).await?;
                Flow::Done
            }
            Scenario::Chat => {
                self.chat_loop(client, pushes).await?;
                Flow::Done
            }
            Scenario::Play | Scenario::Full | Scenario::Reconnect => {
                self.play(client, pushes).await?;
                Flow::Done
            }
        };
        self.hb = None;
        self.logout(client).await?;
        Ok(flow)
    }

    fn heartbeat(&self, client: &Client) -> Heartbeat {
        let (client, stats) = (client.clone(), self.ctx.stats.clone());
        let every = Duration::from_secs_f64(self.ctx.args.heartbeat.max(0.05));
        Heartbeat(tokio::spawn(async move {
            let mut tick = tokio::time::interval_at(Deadline::now() + every, every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                match client.heartbeat().await {
                    Ok(r) if !r.ok() => stats.code("heartbeat", r.code),
                    Ok(_) => {}
                    // A lost connection is the scenario's to report.
                    Err(e @ ClientError::Timeout { .. }) => stats.error(&e),
                    Err(_) => return,
                }
            }
        }))
    }

    pub fn device_id(&self) -> String {
        format!("{}-{}", self.ctx.prefix, self.id)
    }

    fn account(&self) -> (String, String) {
        (
            format!("{}_{}", self.ctx.prefix, self.id),
            format!("pw-{}-{}", self.ctx.prefix, self.id),
        )
    }

    async fn login(&mut self, client: &Client) -> Result<Login> {
        let t = Instant::now();
        let r = match self.ctx.args.login {
            LoginMode::Visitor => client.visitor_login(&self.device_id()).await,
            LoginMode::Account => {
                let (account, password) = self.account();
                match client
                    .password_login(&account, &password, &self.ctx.keys)
                    .await
                {
                    Err(ClientError::Code { code, .. }) if code == codes::UNKNOWN_ACCOUNT => {
                        let nickname = format!("bot {}", self.id);
                        match client.register(&account, &password, &nickname).await {
                            Ok(_) => {
                                self.stats().c.registrations.fetch_add(1, Relaxed);
                                client
                                    .password_login(&account, &password, &self.ctx.keys)
                                    .await
                            }
                            Err(e) => Err(e),
                        }
                    }
                    r => r,
                }
            }
        };
        match &r {
            Ok(l) => {
                self.stats().latency("@login", t.elapsed());
                self.stats().c.logins.fetch_add(1, Relaxed);
                self.gold = l.gold();
                self.uid = l.uid;
                self.token = l.token.clone();
            }
            Err(e @ ClientError::Code { .. }) => self.stats().error(e),
            Err(_) => {}
        }
        r
    }

    async fn logout(&self, client: &Client) -> Result<()> {
        match client.logout().await {
            Err(e @ ClientError::Code { .. }) => {
                self.stats().error(&e);
                Err(e)
            }
            r => r,
        }
    }

    /// Drop the connection and resume the session on a new one (`reconnect` with the last
    /// `ud` seen). Returns the pushes the bot has not handled yet, oldest first: what was
    /// still queued on the old connection, then the replay, which comes before the answer.
    pub async fn reconnect(
        &mut self,
        client: &mut Client,
        pushes: &mut Pushes,
    ) -> Result<Vec<Push>> {
        self.hb = None;
        client.close().await;
        let mut backlog = Vec::new();
        while let Some(p) = pushes.try_recv() {
            backlog.push(p);
        }
        let last = client.last_seq().unwrap_or(0);
        let opts = Options {
            resume_from: Some(last),
            first_session: Some(client.next_session()),
            ..self.ctx.opts.clone()
        };
        self.ctx
            .stats
            .connection(&client.stats(), client.last_bad_packet());
        let t = Instant::now();
        let addr = self
            .addr
            .clone()
            .unwrap_or_else(|| self.ctx.args.addr().to_string());
        let (c, mut p) = Client::connect(&addr, &opts).await?;
        *client = c;
        let r = client.reconnect(self.uid, &self.token, last).await;
        let r = match r {
            Err(e @ ClientError::Code { .. }) => {
                self.stats().error(&e);
                return Err(e);
            }
            r => r?,
        };
        self.stats().latency("@reconnect", t.elapsed());
        self.stats().c.reconnects.fetch_add(1, Relaxed);
        if !r.resumed {
            let id = self.id;
            self.stats().failure("reconnect not resumed", || {
                format!("bot {id}: last_seq {last}, server at {}", r.seq)
            });
        }
        while let Some(x) = p.try_recv() {
            backlog.push(x);
        }
        *pushes = p;
        self.hb = Some(self.heartbeat(client));
        Ok(backlog)
    }

    /// A request whose non-zero code is counted; the response comes back whatever its code.
    pub async fn call(&self, client: &Client, name: &str, body: Struct) -> Result<Response> {
        if self.traced() {
            eprintln!("bot {} > {name} {body:?}", self.id);
        }
        let r = client.request(name, body).await?;
        if self.traced() {
            eprintln!(
                "bot {} < {name} code {} {:?} ud {:?}",
                self.id, r.code, r.body, r.ud
            );
        }
        if !r.ok() {
            self.stats().code(name, r.code);
        }
        Ok(r)
    }

    /// A request the scenario cannot go on without: a non-zero code ends the session.
    pub async fn must(&self, client: &Client, name: &str, body: Struct) -> Result<Response> {
        self.call(client, name, body).await?.check()
    }

    /// Why the push stream ended.
    pub fn lost(client: &Client) -> ClientError {
        match client.kicked() {
            Some(k) => ClientError::Kicked {
                reason: k.reason,
                message: k.message,
            },
            None => ClientError::Closed {
                request: match client.close_error() {
                    Some(e) => format!("waiting for pushes ({e})"),
                    None => "waiting for pushes".to_string(),
                },
            },
        }
    }

    pub fn traced(&self) -> bool {
        self.ctx.args.trace == Some(self.id)
    }

    /// Show a push when this bot is traced.
    pub fn trace_push(&self, p: &Push) {
        if self.traced() {
            eprintln!("bot {} push {} {:?} ud {:?}", self.id, p.name, p.body, p.ud);
        }
    }

    /// Pushes every scenario handles the same way.
    pub fn common_push(&self, p: &Push) -> Result<()> {
        match p.name.as_str() {
            "chat_message" => {
                self.stats().c.chats_received.fetch_add(1, Relaxed);
            }
            "kick" => {
                return Err(ClientError::Kicked {
                    reason: p.int("reason").unwrap_or(0),
                    message: p
                        .body
                        .get("message")
                        .and_then(|v| v.as_str())
                        .unwrap_or("")
                        .to_string(),
                })
            }
            _ => {}
        }
        Ok(())
    }

    pub async fn chat(&self, client: &Client, scope: i64, text: String) -> Result<()> {
        let body = Struct::new()
            .with("scope", scope)
            .with("target", 0i64)
            .with("text", text);
        if self.call(client, "chat", body).await?.ok() {
            self.stats().c.chats_sent.fetch_add(1, Relaxed);
        }
        Ok(())
    }

    /// Logged in, only heartbeats until the deadline.
    async fn idle(&self, client: &Client, pushes: &mut Pushes) -> Result<()> {
        let end = tokio::time::sleep_until(self.ctx.deadline);
        tokio::pin!(end);
        loop {
            tokio::select! {
                _ = &mut end => return Ok(()),
                p = pushes.recv() => match p {
                    Some(p) => {
                        self.trace_push(&p);
                        self.common_push(&p)?
                    }
                    None => return Err(Self::lost(client)),
                },
            }
        }
    }

    /// Hall chat at `--chat-interval`, history now and then.
    async fn chat_loop(&mut self, client: &Client, pushes: &mut Pushes) -> Result<()> {
        let every = Duration::from_secs_f64(self.ctx.args.chat_interval.max(0.01));
        let first = Deadline::now() + every.mul_f64(self.rng.gen::<f64>());
        let mut tick = tokio::time::interval_at(first, every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let end = tokio::time::sleep_until(self.ctx.deadline);
        tokio::pin!(end);
        let mut n = 0u64;
        loop {
            tokio::select! {
                _ = &mut end => return Ok(()),
                _ = tick.tick() => {
                    n += 1;
                    self.chat(client, 1, format!("bot {} says hello #{n}", self.id)).await?;
                    if self.rng.gen_ratio(1, 10) {
                        let body = Struct::new().with("scope", 1i64).with("target", 0i64);
                        self.call(client, "chat_history", body).await?;
                    }
                }
                p = pushes.recv() => match p {
                    Some(p) => {
                        self.trace_push(&p);
                        self.common_push(&p)?
                    }
                    None => return Err(Self::lost(client)),
                },
            }
        }
    }
}
