//! What the bots count: live gauges for the progress bar, latency histograms per request,
//! errors by code and by kind, and the connection-level tallies (`ud` continuity, packets).

use cirrus::gameclient::{codes, ClientError, ConnStats};
use hdrhistogram::Histogram;
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Latencies are kept in microseconds up to a minute (longer ones count as a minute).
const MAX_US: u64 = 60_000_000;
/// How many example messages to keep per kind of problem.
const SAMPLES: usize = 5;

#[derive(Default)]
pub struct Counters {
    pub connected: AtomicI64,
    pub peak_connected: AtomicI64,
    pub in_game: AtomicI64,
    pub logins: AtomicU64,
    pub registrations: AtomicU64,
    /// Desk rounds finished (each counted once, by the lowest seat).
    pub games: AtomicU64,
    /// Rounds played, counted by every bot dealt in.
    pub seat_rounds: AtomicU64,
    pub chats_sent: AtomicU64,
    pub chats_received: AtomicU64,
    /// Everything that counts as an error, for the progress bar.
    pub errors: AtomicU64,
    pub settlement_mismatches: AtomicU64,
    pub gold_mismatches: AtomicU64,
    pub unfinished: AtomicU64,
    /// Bots the desk stood up (gold below the room's minimum).
    pub stood_up: AtomicU64,
    /// Connections dropped on purpose and resumed (the reconnect scenario).
    pub reconnects: AtomicU64,
}

#[derive(Default)]
struct Tables {
    latency: BTreeMap<String, Histogram<u64>>,
    /// code -> request -> count
    codes: BTreeMap<i64, BTreeMap<String, u64>>,
    /// kind -> (count, sample messages)
    failures: BTreeMap<&'static str, (u64, Vec<String>)>,
    mismatches: Vec<String>,
    conn: ConnStats,
    bad_packet_samples: Vec<String>,
}

#[derive(Default)]
pub struct Stats {
    pub c: Counters,
    tables: Mutex<Tables>,
}

/// A gauge held up while this lives.
pub struct Gauge<'a>(&'a AtomicI64);

impl Drop for Gauge<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Relaxed);
    }
}

fn sample(v: &mut Vec<String>, s: impl FnOnce() -> String) {
    if v.len() < SAMPLES {
        v.push(s());
    }
}

impl Stats {
    pub fn connected(&self) -> Gauge<'_> {
        let now = self.c.connected.fetch_add(1, Relaxed) + 1;
        self.c.peak_connected.fetch_max(now, Relaxed);
        Gauge(&self.c.connected)
    }

    pub fn in_game(&self) -> Gauge<'_> {
        self.c.in_game.fetch_add(1, Relaxed);
        Gauge(&self.c.in_game)
    }

    pub fn latency(&self, name: &str, d: Duration) {
        let us = (d.as_micros() as u64).clamp(1, MAX_US);
        let mut t = self.tables.lock();
        match t.latency.get_mut(name) {
            Some(h) => h.saturating_record(us),
            None => {
                let mut h = Histogram::new_with_max(MAX_US, 3).expect("histogram bounds");
                h.saturating_record(us);
                t.latency.insert(name.to_string(), h);
            }
        }
    }

    /// A response with a non-zero code.
    pub fn code(&self, request: &str, code: i64) {
        self.c.errors.fetch_add(1, Relaxed);
        let mut t = self.tables.lock();
        *t.codes
            .entry(code)
            .or_default()
            .entry(request.to_string())
            .or_default() += 1;
    }

    /// Any other failure: connection, timeout, protocol violation.
    pub fn failure(&self, kind: &'static str, what: impl FnOnce() -> String) {
        self.c.errors.fetch_add(1, Relaxed);
        let mut t = self.tables.lock();
        let e = t.failures.entry(kind).or_default();
        e.0 += 1;
        sample(&mut e.1, what);
    }

    /// Count a client error: codes by code, the rest by kind.
    pub fn error(&self, e: &ClientError) {
        match e {
            ClientError::Code { request, code } => self.code(request, *code),
            e => self.failure(e.kind(), || e.to_string()),
        }
    }

    pub fn mismatch(&self, gold: bool, what: String) {
        self.c.errors.fetch_add(1, Relaxed);
        if gold {
            self.c.gold_mismatches.fetch_add(1, Relaxed);
        } else {
            self.c.settlement_mismatches.fetch_add(1, Relaxed);
        }
        let mut t = self.tables.lock();
        if t.mismatches.len() < SAMPLES {
            t.mismatches.push(what);
        }
    }

    /// Fold in a finished connection's tallies.
    pub fn connection(&self, s: &ConnStats, bad_packet: Option<String>) {
        let broken = s.seq.gaps + s.seq.duplicates + s.seq.unsequenced + s.bad_packets + s.no_code;
        self.c.errors.fetch_add(broken, Relaxed);
        let mut t = self.tables.lock();
        t.conn.add(s);
        if let Some(b) = bad_packet {
            sample(&mut t.bad_packet_samples, || b);
        }
    }

    pub fn report(&self, meta: &Meta) -> Report {
        let t = self.tables.lock();
        let c = &self.c;
        let requests = t
            .latency
            .iter()
            .map(|(name, h)| {
                let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
                let errors = t.codes.values().filter_map(|by| by.get(name)).sum::<u64>();
                RequestRow {
                    name: name.clone(),
                    count: h.len(),
                    errors,
                    p50: ms(0.5),
                    p90: ms(0.9),
                    p99: ms(0.99),
                    max: h.max() as f64 / 1000.0,
                }
            })
            .collect();
        let codes = t
            .codes
            .iter()
            .map(|(code, by)| CodeRow {
                code: *code,
                name: codes::name(*code),
                count: by.values().sum(),
                requests: by.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            })
            .collect();
        let failures = t
            .failures
            .iter()
            .map(|(k, (n, s))| (k.to_string(), *n, s.clone()))
            .collect();
        let g = |a: &AtomicU64| a.load(Relaxed);
        Report {
            meta: meta.clone(),
            peak_connected: c.peak_connected.load(Relaxed).max(0) as u64,
            logins: g(&c.logins),
            registrations: g(&c.registrations),
            games: g(&c.games),
            seat_rounds: g(&c.seat_rounds),
            chats_sent: g(&c.chats_sent),
            chats_received: g(&c.chats_received),
            settlement_mismatches: g(&c.settlement_mismatches),
            gold_mismatches: g(&c.gold_mismatches),
            mismatch_samples: t.mismatches.clone(),
            unfinished: g(&c.unfinished),
            stood_up: g(&c.stood_up),
            reconnects: g(&c.reconnects),
            requests,
            codes,
            failures,
            conn: t.conn.clone(),
            bad_packet_samples: t.bad_packet_samples.clone(),
        }
    }
}

/// How the run was set up, for the report.
#[derive(Clone)]
pub struct Meta {
    pub scenario: String,
    pub addr: String,
    pub transport: &'static str,
    pub login: &'static str,
    pub bots: usize,
    pub seed: u64,
    /// Seconds from the first connect to the end of the load (before the wind-down).
    pub elapsed: f64,
    /// Seconds until the last bot had connected.
    pub ramp: f64,
    /// Server pid, RSS and peak RSS in MiB at the end of the load, and bots connected then.
    pub server_rss: Option<(u32, f64, f64, u64)>,
}

pub struct RequestRow {
    pub name: String,
    pub count: u64,
    pub errors: u64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

pub struct CodeRow {
    pub code: i64,
    pub name: &'static str,
    pub count: u64,
    pub requests: Vec<(String, u64)>,
}

pub struct Report {
    pub meta: Meta,
    pub peak_connected: u64,
    pub logins: u64,
    pub registrations: u64,
    pub games: u64,
    pub seat_rounds: u64,
    pub chats_sent: u64,
    pub chats_received: u64,
    pub settlement_mismatches: u64,
    pub gold_mismatches: u64,
    pub mismatch_samples: Vec<String>,
    pub unfinished: u64,
    pub stood_up: u64,
    pub reconnects: u64,
    pub requests: Vec<RequestRow>,
    pub codes: Vec<CodeRow>,
    pub failures: Vec<(String, u64, Vec<String>)>,
    pub conn: ConnStats,
    pub bad_packet_samples: Vec<String>,
}

impl Report {
    fn per_s(&self, n: u64) -> f64 {
        n as f64 / self.meta.elapsed.max(1e-9)
    }

    /// Everything that makes the run fail.
    pub fn errors(&self) -> u64 {
        let s = &self.conn.seq;
        self.codes.iter().map(|c| c.count).sum::<u64>()
            + self.failures.iter().map(|f| f.1).sum::<u64>()
            + s.gaps
            + s.duplicates
            + s.unsequenced
            + self.conn.bad_packets
            + self.conn.no_code
            + self.settlement_mismatches
            + self.gold_mismatches
            + self.unfinished
    }

    pub fn text(&self) -> String {
        use std::fmt::Write;
        let m = &self.meta;
        let mut o = String::new();
        let _ = writeln!(
            o,
            "cirrus-bench robot: scenario {}, {} bots ({}, {} login) on {}, seed {}",
            m.scenario, m.bots, m.transport, m.login, m.addr, m.seed
        );
        let _ = writeln!(
            o,
            "  {:.1} s of load; all connected after {:.1} s; peak {} connected",
            m.elapsed, m.ramp, self.peak_connected
        );
        let _ = writeln!(
            o,
            "  logins {} ({:.1}/s), registrations {}, games {} ({:.2}/s; {} seat-rounds)",
            self.logins,
            self.per_s(self.logins),
            self.registrations,
            self.games,
            self.per_s(self.games),
            self.seat_rounds
        );
        let c = &self.conn;
        let _ = writeln!(
            o,
            "  messages sent {} ({:.0}/s), received {} ({:.0}/s, {} pushes); chat sent {}, received {}",
            c.packets_out,
            self.per_s(c.packets_out),
            c.packets_in,
            self.per_s(c.packets_in),
            c.pushes,
            self.chats_sent,
            self.chats_received
        );
        if let Some((pid, rss, hwm, n)) = m.server_rss {
            let _ = writeln!(
                o,
                "  server {pid}: RSS {rss:.1} MiB with {n} bots connected (peak {hwm:.1} MiB)"
            );
        }
        if c.queue_waits > 0 {
            let _ = writeln!(o, "  queue_wait pushes {}", c.queue_waits);
        }
        let _ = writeln!(
            o,
            "  {:<16} {:>9} {:>7} {:>9} {:>9} {:>9} {:>9}",
            "request", "count", "errors", "p50 ms", "p90 ms", "p99 ms", "max ms"
        );
        for r in &self.requests {
            let _ = writeln!(
                o,
                "  {:<16} {:>9} {:>7} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
                r.name, r.count, r.errors, r.p50, r.p90, r.p99, r.max
            );
        }
        if !self.codes.is_empty() {
            let _ = writeln!(o, "  errors by code:");
            for e in &self.codes {
                let by: Vec<String> = e.requests.iter().map(|(k, v)| format!("{k} {v}")).collect();
                let _ = writeln!(
                    o,
                    "    {:>3} {:<18} {:>8}  ({})",
                    e.code,
                    e.name,
                    e.count,
                    by.join(", ")
                );
            }
        }
        if !self.failures.is_empty() {
            let _ = writeln!(o, "  connection errors:");
            for (kind, n, samples) in &self.failures {
                let _ = writeln!(o, "    {kind:<22} {n:>8}  e.g. {}", samples.join(" | "));
            }
        }
        let s = &c.seq;
        let _ = writeln!(
            o,
            "  ud: {} sequenced, {} gaps ({} missing), {} duplicates, {} without ud",
            s.sequenced, s.gaps, s.missing, s.duplicates, s.unsequenced
        );
        let _ = writeln!(
            o,
            "  settlement mismatches {}, gold mismatches {}, bad packets {}, responses without code {}, late responses {}",
            self.settlement_mismatches, self.gold_mismatches, c.bad_packets, c.no_code, c.late_responses
        );
        for s in self.mismatch_samples.iter().chain(&self.bad_packet_samples) {
            let _ = writeln!(o, "    e.g. {s}");
        }
        if self.stood_up > 0 {
            let _ = writeln!(o, "  bots stood up for low gold: {}", self.stood_up);
        }
        if self.reconnects > 0 {
            let _ = writeln!(
                o,
                "  reconnects {} (each resumed with no gap or duplicate, or counted above)",
                self.reconnects
            );
        }
        if self.unfinished > 0 {
            let _ = writeln!(o, "  bots still running at the end: {}", self.unfinished);
        }
        let errors = self.errors();
        let _ = writeln!(
            o,
            "  result: {}",
            if errors == 0 {
                "no errors".to_string()
            } else {
                format!("{errors} errors")
            }
        );
        o
    }

    pub fn json(&self) -> serde_json::Value {
        use serde_json::json;
        let m = &self.meta;
        let c = &self.conn;
        let s = &c.seq;
        json!({
            "scenario": m.scenario,
            "addr": m.addr,
            "transport": m.transport,
            "login": m.login,
            "bots": m.bots,
            "seed": m.seed,
            "elapsed_s": m.elapsed,
            "ramp_s": m.ramp,
            "peak_connected": self.peak_connected,
            "server": m.server_rss.map(|(pid, rss, hwm, n)| json!({
                "pid": pid, "rss_mib": rss, "peak_rss_mib": hwm, "connected": n,
            })),
            "logins": self.logins,
            "logins_per_s": self.per_s(self.logins),
            "registrations": self.registrations,
            "games": self.games,
            "games_per_s": self.per_s(self.games),
            "seat_rounds": self.seat_rounds,
            "messages": {
                "sent": c.packets_out,
                "received": c.packets_in,
                "pushes": c.pushes,
                "sent_per_s": self.per_s(c.packets_out),
                "received_per_s": self.per_s(c.packets_in),
                "bytes_sent": c.bytes_out,
                "bytes_received": c.bytes_in,
                "queue_waits": c.queue_waits,
            },
            "chat": { "sent": self.chats_sent, "received": self.chats_received },
            "requests": self.requests.iter().map(|r| json!({
                "name": r.name, "count": r.count, "errors": r.errors,
                "p50_ms": r.p50, "p90_ms": r.p90, "p99_ms": r.p99, "max_ms": r.max,
            })).collect::<Vec<_>>(),
            "errors_by_code": self.codes.iter().map(|e| json!({
                "code": e.code, "name": e.name, "count": e.count,
                "requests": e.requests.iter().cloned().collect::<BTreeMap<_, _>>(),
            })).collect::<Vec<_>>(),
            "connection_errors": self.failures.iter().map(|(k, n, samples)| json!({
                "kind": k, "count": n, "samples": samples,
            })).collect::<Vec<_>>(),
            "ud": {
                "sequenced": s.sequenced, "gaps": s.gaps, "missing": s.missing,
                "duplicates": s.duplicates, "unsequenced": s.unsequenced,
            },
            "settlement_mismatches": self.settlement_mismatches,
            "gold_mismatches": self.gold_mismatches,
            "mismatch_samples": self.mismatch_samples,
            "bad_packets": c.bad_packets,
            "responses_without_code": c.no_code,
            "late_responses": c.late_responses,
            "unfinished": self.unfinished,
            "stood_up": self.stood_up,
            "reconnects": self.reconnects,
            "errors": self.errors(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> Meta {
        Meta {
            scenario: "play".into(),
            addr: "127.0.0.1:8888".into(),
            transport: "tcp",
            login: "visitor",
            bots: 2,
            seed: 1,
            elapsed: 2.0,
            ramp: 0.1,
            server_rss: None,
        }
    }

    #[test]
    fn percentiles_and_error_tables() {
        let s = Stats::default();
        for ms in 1..=100u64 {
            s.latency("heartbeat", Duration::from_millis(ms));
        }
        s.code("bet", 33);
        s.code("bet", 33);
        s.code("chat", 41);
        s.failure("timeout", || "bet: no answer".into());
        let mut cs = ConnStats {
            packets_out: 10,
            packets_in: 20,
            ..ConnStats::default()
        };
        cs.seq.gaps = 1;
        s.connection(&cs, None);
        s.c.games.fetch_add(4, Relaxed);
        let r = s.report(&meta());
        let hb = &r.requests[0];
        assert_eq!((hb.name.as_str(), hb.count), ("heartbeat", 100));
        assert!((hb.p50 - 50.0).abs() < 0.1, "{}", hb.p50);
        assert!((hb.p99 - 99.0).abs() < 0.1, "{}", hb.p99);
        assert!((hb.max - 100.0).abs() < 0.1, "{}", hb.max);
        assert_eq!(r.codes[0].code, 33);
        assert_eq!(r.codes[0].name, "WRONG_PHASE");
        assert_eq!(r.codes[0].count, 2);
        assert_eq!(
            r.errors(),
            2 + 1 + 1 + 1,
            "codes, the timeout and the ud gap"
        );
        assert_eq!(s.c.errors.load(Relaxed), r.errors());
        let j = r.json();
        assert_eq!(j["games_per_s"], 2.0);
        assert_eq!(j["messages"]["received_per_s"], 10.0);
        assert_eq!(j["errors_by_code"][0]["requests"]["bet"], 2);
        assert_eq!(j["ud"]["gaps"], 1);
        assert!(r.text().contains("33 WRONG_PHASE"));
    }

    #[test]
    fn gauges_track_peaks() {
        let s = Stats::default();
        {
            let _a = s.connected();
            let _b = s.connected();
            assert_eq!(s.c.connected.load(Relaxed), 2);
        }
        assert_eq!(s.c.connected.load(Relaxed), 0);
        assert_eq!(s.c.peak_connected.load(Relaxed), 2);
        let r = s.report(&meta());
        assert_eq!(r.errors(), 0);
        assert!(r.text().contains("no errors"));
    }
}
