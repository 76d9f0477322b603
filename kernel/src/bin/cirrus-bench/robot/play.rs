//! The play, full and reconnect scenarios: sit at a desk and play bull poker round after
//! round, reacting to the desk's pushes as docs/PROTOCOL.md lays the round out, and check
//! every settlement. In the reconnect scenario bots drop their connection at random moments,
//! resume on a new one and catch up from the replayed pushes before they act again.

use super::bot::{Bot, Result};
use super::settle;
use super::Scenario;
use cirrus::gameclient::{codes, Client, ClientError, Push, Pushes};
use cirrus::sproto::{Struct, Value};
use rand::Rng;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;
use tokio::time::Instant;

/// How long the wind-down waits for a round it left mid-way to end.
const ROUND_END_WAIT: Duration = Duration::from_secs(25);

/// Where the bot sits and what it knows of the current round.
#[derive(Debug)]
struct Desk {
    desk_id: i64,
    seat: i64,
    /// The round the bot was dealt into (from `game_start`).
    round: Option<i64>,
    playing: bool,
    stood_up: bool,
    /// Ready for the next round once the round is over: a round ends with `game_end`, then
    /// the settle countdown (when `desk_ready` is already taken), then a `seat_state` in which
    /// no seat is playing any more and `desk_phase { phase = 0 }`.
    want_ready: bool,
    /// When the settle countdown of that round ends (from `desk_phase { phase = 4 }`).
    settled: Option<(i64, Instant)>,
    /// Where the round stands as the pushes told, for catching up after a reconnect: the
    /// phase, the banker, and which of this seat's moves were made (by the bot, or by the
    /// desk while the bot was away).
    phase: i64,
    banker: i64,
    bid: bool,
    bet: bool,
    opened: bool,
    /// The desk waits for ready players (a `seat_state` with no seat playing).
    waiting: bool,
}

impl Desk {
    fn phase(&mut self, p: &Push) {
        if let (Some(4), Some(round)) = (p.int("phase"), p.int("round")) {
            let secs = p.int("seconds").unwrap_or(0).clamp(0, 60) as u64;
            self.settled = Some((round, Instant::now() + Duration::from_secs(secs)));
        }
    }
}

async fn sleep_until_some(at: Option<Instant>) {
    match at {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

/// Room ids of a `room_list` answer (`*Room(id)` decodes as a map), with each room's
/// `min_gold`, lowest id first.
fn rooms(body: &Struct) -> Vec<(i64, i64)> {
    let room = |v: &Value| {
        let s = v.as_struct()?;
        let id = s.get("id")?.as_integer()?;
        Some((
            id,
            s.get("min_gold").and_then(Value::as_integer).unwrap_or(0),
        ))
    };
    let mut out: Vec<(i64, i64)> = match body.get("rooms") {
        Some(Value::Map(m)) => m.iter().filter_map(|(_, v)| room(v)).collect(),
        Some(Value::Array(a)) => a.iter().filter_map(room).collect(),
        _ => Vec::new(),
    };
    out.sort_unstable();
    out
}

fn int(s: &Struct, field: &str) -> Option<i64> {
    s.get(field).and_then(Value::as_integer)
}

/// The seats of a push that has them (`seat_state`, `game_start`).
fn seats(p: &Push) -> Vec<&Struct> {
    p.body
        .get("seats")
        .and_then(Value::as_array)
        .unwrap_or(&[])
        .iter()
        .filter_map(Value::as_struct)
        .collect()
}

fn ints(v: Option<&Value>) -> usize {
    v.and_then(Value::as_array).map_or(0, <[Value]>::len)
}

impl Bot {
    async fn pick_room(&self, client: &Client) -> Result<i64> {
        if let Some(id) = self.ctx.args.room {
            return Ok(id);
        }
        let r = self.must(client, "room_list", Struct::new()).await?;
        let list = rooms(&r.body);
        let gold = self.gold.unwrap_or(i64::MAX);
        list.iter()
            .find(|(_, min)| *min <= gold)
            .or(list.first())
            .map(|(id, _)| *id)
            .ok_or(ClientError::MissingField {
                request: "room_list",
                field: "rooms",
            })
    }

    async fn think(&mut self) {
        let max = self.ctx.args.think;
        if max > 0 {
            let ms = self.rng.gen_range(0..=max);
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
    }

    pub async fn play(&mut self, client: &mut Client, pushes: &mut Pushes) -> Result<()> {
        let room_id = self.pick_room(client).await?;
        self.must(client, "room_enter", Struct::new().with("room_id", room_id))
            .await?;
        let j = self
            .must(client, "desk_join", Struct::new().with("desk_id", 0i64))
            .await?;
        let missing = |field| ClientError::MissingField {
            request: "desk_join",
            field,
        };
        let mut desk = Desk {
            desk_id: j.int("desk_id").ok_or_else(|| missing("desk_id"))?,
            seat: j.int("seat").ok_or_else(|| missing("seat"))?,
            round: None,
            playing: false,
            stood_up: false,
            want_ready: true,
            settled: None,
            phase: j.int("phase").unwrap_or(0),
            banker: -1,
            bid: false,
            bet: false,
            opened: false,
            waiting: j.int("phase").unwrap_or(0) == 0,
        };
        let stats = self.ctx.stats.clone();
        let in_game = stats.in_game();
        if j.int("phase").unwrap_or(0) == 0 {
            self.ready(client, &mut desk).await?;
        }
        let end = tokio::time::sleep_until(self.ctx.deadline);
        tokio::pin!(end);
        let drops = self.ctx.args.scenario == Scenario::Reconnect
            && self.rng.gen_bool(self.ctx.args.drop_share.clamp(0.0, 1.0));
        let mut next_drop = self.next_drop(drops);
        while !desk.stood_up {
            tokio::select! {
                _ = &mut end => break,
                _ = sleep_until_some(next_drop) => {
                    let backlog = self.reconnect(client, pushes).await?;
                    for p in &backlog {
                        self.desk_push(client, &mut desk, p, true).await?;
                    }
                    self.catch_up(client, &mut desk).await?;
                    next_drop = self.next_drop(drops);
                }
                p = pushes.recv() => match p {
                    Some(p) if p.name == "redirect" => {
                        // the gate drains: resume on the one it names
                        let host = p.body.get("host").and_then(Value::as_str).unwrap_or("127.0.0.1");
                        let port = if self.ctx.args.ws { p.int("ws_port") } else { p.int("port") };
                        self.addr = Some(format!("{host}:{}", port.unwrap_or(0)));
                        let backlog = self.reconnect(client, pushes).await?;
                        for p in &backlog {
                            self.desk_push(client, &mut desk, p, true).await?;
                        }
                        self.catch_up(client, &mut desk).await?;
                    }
                    Some(p) => self.desk_push(client, &mut desk, &p, false).await?,
                    None => return Err(Self::lost(client)),
                },
            }
        }
        if !desk.stood_up {
            let left = self.must(client, "desk_leave", Struct::new()).await?;
            if left.body.get("pending").and_then(Value::as_bool) == Some(true) {
                return self.wait_round_end(client, pushes, &mut desk).await;
            }
        }
        drop(in_game);
        self.must(client, "room_leave", Struct::new()).await?;
        Ok(())
    }

    /// After leaving mid-round the seat is freed when the round ends: after the settle
    /// countdown that follows `game_end`, told by a `seat_state { stood = true }`. Wait for
    /// that (or the countdown), then `room_leave`, trying again while it answers AT_DESK.
    async fn wait_round_end(
        &mut self,
        client: &Client,
        pushes: &mut Pushes,
        desk: &mut Desk,
    ) -> Result<()> {
        let give_up = Instant::now() + ROUND_END_WAIT;
        let timeout = || ClientError::Timeout {
            request: "room_leave after a pending desk_leave".to_string(),
            secs: ROUND_END_WAIT.as_secs_f64(),
        };
        loop {
            match desk.settled {
                Some((round, until)) if Some(round) == desk.round => {
                    tokio::time::sleep_until(until.min(give_up)).await;
                    break;
                }
                _ => {}
            }
            let p = tokio::time::timeout_at(give_up, pushes.recv())
                .await
                .map_err(|_| timeout())?
                .ok_or_else(|| Self::lost(client))?;
            self.trace_push(&p);
            let ours = p.int("desk_id") == Some(desk.desk_id);
            match p.name.as_str() {
                "seat_state"
                    if ours && p.body.get("stood").and_then(Value::as_bool) == Some(true) =>
                {
                    break
                }
                "desk_phase" if ours => desk.phase(&p),
                "game_end" if ours => self.game_end(desk, &p),
                _ => self.common_push(&p)?,
            }
        }
        loop {
            let r = client.request("room_leave", Struct::new()).await?;
            if r.code != codes::AT_DESK || Instant::now() >= give_up {
                if !r.ok() {
                    self.stats().code("room_leave", r.code);
                }
                return r.check().map(|_| ());
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    async fn ready(&self, client: &Client, desk: &mut Desk) -> Result<()> {
        desk.want_ready = false;
        self.call(client, "desk_ready", Struct::new().with("ready", true))
            .await?;
        Ok(())
    }

    /// When the next drop of the connection is due (exponential, mean `--drop-every`).
    fn next_drop(&mut self, drops: bool) -> Option<Instant> {
        if !drops {
            return None;
        }
        let u: f64 = self.rng.gen_range(f64::EPSILON..1.0);
        let secs = -u.ln() * self.ctx.args.drop_every.max(0.1);
        Some(Instant::now() + Duration::from_secs_f64(secs.min(3600.0)))
    }

    /// After the replay: make the move the desk still waits for, or ready up.
    async fn catch_up(&mut self, client: &Client, desk: &mut Desk) -> Result<()> {
        if desk.playing {
            match desk.phase {
                1 if !desk.bid => self.bid(client, desk).await?,
                2 if !desk.bet && desk.banker != desk.seat => self.bet(client, desk).await?,
                3 if !desk.opened => self.open(client, desk).await?,
                _ => {}
            }
        } else if desk.want_ready && desk.waiting {
            self.ready(client, desk).await?;
        }
        Ok(())
    }

    async fn bid(&mut self, client: &Client, desk: &mut Desk) -> Result<()> {
        desk.bid = true;
        self.think().await;
        let times = self.rng.gen_range(0..=4i64);
        self.call(client, "bid_banker", Struct::new().with("times", times))
            .await?;
        Ok(())
    }

    async fn bet(&mut self, client: &Client, desk: &mut Desk) -> Result<()> {
        desk.bet = true;
        self.think().await;
        let times = self.rng.gen_range(1..=5i64);
        self.call(client, "bet", Struct::new().with("times", times))
            .await?;
        Ok(())
    }

    async fn open(&mut self, client: &Client, desk: &mut Desk) -> Result<()> {
        desk.opened = true;
        self.think().await;
        self.call(client, "open_cards", Struct::new()).await?;
        Ok(())
    }

    /// Follow one push; `catching_up`: a replayed push, whose moves are not made now (the
    /// desk may have made them while the bot was away; `catch_up` decides afterwards).
    async fn desk_push(
        &mut self,
        client: &Client,
        desk: &mut Desk,
        p: &Push,
        catching_up: bool,
    ) -> Result<()> {
        self.trace_push(p);
        let ours = p.int("desk_id").is_none_or(|d| d == desk.desk_id);
        if ours && p.name == "game_start" {
            desk.bid = false;
            desk.bet = false;
            desk.opened = false;
            desk.waiting = false;
            desk.phase = 0;
            desk.banker = -1;
        }
        let this_round = desk.playing && p.int("round") == desk.round;
        if ours && p.name == "desk_phase" {
            desk.phase(p);
            if p.int("round") == desk.round {
                desk.phase = p.int("phase").unwrap_or(0);
                desk.banker = p.int("banker").unwrap_or(-1);
            }
        }
        let mine = ours && this_round && p.int("seat") == Some(desk.seat);
        match p.name.as_str() {
            "desk_action" if mine => match p.int("action") {
                Some(1) => desk.bid = true,
                Some(2) => desk.bet = true,
                _ => {}
            },
            "cards_open" if mine => desk.opened = true,
            _ => {}
        }
        if catching_up {
            return self.follow(desk, p, ours);
        }
        match p.name.as_str() {
            "game_start" if ours => {
                self.follow(desk, p, ours)?;
                if desk.playing
                    && self.ctx.args.scenario == Scenario::Full
                    && self.rng.gen_ratio(1, 3)
                {
                    let text = format!("bot {} at desk {}: good luck", self.id, desk.desk_id);
                    self.chat(client, 5, text).await?;
                }
            }
            "desk_phase" if ours && this_round => match p.int("phase") {
                Some(1) if !desk.bid => self.bid(client, desk).await?,
                Some(2) if p.int("banker") != Some(desk.seat) && !desk.bet => {
                    self.bet(client, desk).await?
                }
                _ => {}
            },
            "deal_card" if ours && this_round && !desk.opened => self.open(client, desk).await?,
            "game_end" if ours => self.follow(desk, p, ours)?,
            "seat_state" if ours => {
                self.follow(desk, p, ours)?;
                if !desk.stood_up && desk.want_ready && desk.waiting {
                    self.ready(client, desk).await?;
                }
            }
            _ => self.common_push(p)?,
        }
        Ok(())
    }

    /// What a push tells without a move in answer: rounds ending (and their settlement
    /// checked), the desk waiting, the bot stood up.
    fn follow(&mut self, desk: &mut Desk, p: &Push, ours: bool) -> Result<()> {
        match p.name.as_str() {
            "game_start" if ours => {
                desk.round = p.int("round");
                let seats = seats(p);
                let me = seats.iter().find(|s| int(s, "index") == Some(desk.seat));
                let dealt = me.and_then(|s| s.get("playing")).and_then(Value::as_bool);
                desk.playing = dealt.unwrap_or(ints(p.body.get("hand")) > 0);
            }
            "game_end" if ours => {
                self.game_end(desk, p);
                desk.want_ready = true;
            }
            "seat_state" if ours => {
                let seats = seats(p);
                let seated = seats.iter().any(|s| int(s, "uid") == Some(self.uid));
                desk.waiting = !seats
                    .iter()
                    .any(|s| s.get("playing").and_then(Value::as_bool) == Some(true));
                if !seats.is_empty() && !seated {
                    // Stood up by the desk (gold below the room's minimum).
                    desk.stood_up = true;
                    self.stats().c.stood_up.fetch_add(1, Relaxed);
                }
            }
            "desk_action" | "cards_open" | "desk_phase" | "deal_card" if ours => {}
            _ => self.common_push(p)?,
        }
        Ok(())
    }

    /// Count the round and check its settlement (once per desk: by the lowest seat) and this
    /// bot's own balance.
    fn game_end(&mut self, desk: &mut Desk, p: &Push) {
        let dealt = desk.playing && p.int("round") == desk.round;
        desk.playing = false;
        if !dealt {
            return;
        }
        let stats = self.ctx.stats.clone();
        stats.c.seat_rounds.fetch_add(1, Relaxed);
        let results = settle::results(&p.body);
        let lowest = results.iter().map(|r| r.seat).min();
        let round = p.int("round").unwrap_or(0);
        if lowest == Some(desk.seat) {
            stats.c.games.fetch_add(1, Relaxed);
            let banker = p.int("banker").unwrap_or(-1);
            let problems = if settle::void(&p.body) {
                // The server could not store the round: a server-side failure in itself.
                stats.failure("void settlement", || {
                    format!("desk {} round {round}", desk.desk_id)
                });
                settle::check_void(&results)
            } else {
                settle::check(&results, banker, self.ctx.args.fee_percent)
            };
            for bad in problems {
                stats.mismatch(false, format!("desk {} round {round}: {bad}", desk.desk_id));
            }
        }
        match results.iter().find(|r| r.seat == desk.seat) {
            Some(mine) => {
                if let Some(before) = self.gold {
                    if before + mine.gold_delta != mine.gold {
                        stats.mismatch(
                            true,
                            format!(
                                "desk {} round {round} seat {}: gold {before} + {} != {}",
                                desk.desk_id, desk.seat, mine.gold_delta, mine.gold
                            ),
                        );
                    }
                }
                self.gold = Some(mine.gold);
            }
            None => stats.mismatch(
                false,
                format!(
                    "desk {} round {round}: dealt-in seat {} has no result",
                    desk.desk_id, desk.seat
                ),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rooms_from_a_map_or_an_array() {
        let room = |id: i64, min: i64| Struct::new().with("id", id).with("min_gold", min);
        let map = Struct::new().with(
            "rooms",
            Value::Map(vec![
                (Value::Integer(2), Value::Struct(room(2, 5000))),
                (Value::Integer(1), Value::Struct(room(1, 100))),
            ]),
        );
        assert_eq!(rooms(&map), vec![(1, 100), (2, 5000)]);
        let arr = Struct::new().with("rooms", Value::Array(vec![Value::Struct(room(7, 0))]));
        assert_eq!(rooms(&arr), vec![(7, 0)]);
        assert!(rooms(&Struct::new()).is_empty());
    }
}
