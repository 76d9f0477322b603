//! Prometheus metrics: a registry of counters, gauges and histograms (Rust and, through
//! `require "cirrus.metrics"`, Lua services), rendered in the text exposition format at
//! `GET /metrics` on `metrics_port` (`metrics_address`, loopback by default).
//!
//! Updating a metric is one relaxed atomic operation on a series the caller looked up once
//! (registration takes the registry lock; the hot path never does). Per-service figures are
//! not registered at all: they are read at scrape time from the counters every service slot
//! already keeps (`Slot::stats`).

pub mod lua;
mod server;

pub use server::serve;

use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Shards of a [`Counter`]: threads that count the same series (IO threads deframing, workers
/// writing frames) each add to their own cache line, so the hot path never bounces one.
const SHARDS: usize = 16;

#[repr(align(64))]
#[derive(Default, Debug)]
struct Shard(AtomicU64);

/// This thread's shard, assigned round robin on first use.
fn shard() -> usize {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    thread_local! {
        static S: usize = (NEXT.fetch_add(1, Relaxed) % SHARDS as u64) as usize;
    }
    S.with(|s| *s)
}

/// A monotonically increasing count: one relaxed add on the calling thread's shard; reading
/// sums the shards.
#[derive(Default, Debug)]
pub struct Counter([Shard; SHARDS]);

impl Counter {
    pub fn inc(&self) {
        self.add(1);
    }
    pub fn add(&self, n: u64) {
        self.0[shard()].0.fetch_add(n, Relaxed);
    }
    pub fn get(&self) -> u64 {
        self.0.iter().map(|s| s.0.load(Relaxed)).sum()
    }
}

/// A value that goes up and down (an f64 in an atomic).
#[derive(Default, Debug)]
pub struct Gauge(AtomicU64);

impl Gauge {
    pub fn set(&self, v: f64) {
        self.0.store(v.to_bits(), Relaxed);
    }
    pub fn add(&self, d: f64) {
        let _ = self.0.fetch_update(Relaxed, Relaxed, |b| {
            Some((f64::from_bits(b) + d).to_bits())
        });
    }
    pub fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Relaxed))
    }
}

/// Latency buckets, in seconds: 100 µs to 10 s.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// A histogram of durations over [`LATENCY_BUCKETS`].
#[derive(Debug)]
pub struct Histogram {
    /// Per bucket (not cumulative); the last one is +Inf.
    counts: Box<[AtomicU64]>,
    sum_ns: AtomicU64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: (0..=LATENCY_BUCKETS.len())
                .map(|_| AtomicU64::new(0))
                .collect(),
            sum_ns: AtomicU64::new(0),
        }
    }
}

impl Histogram {
    pub fn observe(&self, d: Duration) {
        let s = d.as_secs_f64();
        let i = LATENCY_BUCKETS.partition_point(|b| *b < s);
        self.counts[i].fetch_add(1, Relaxed);
        self.sum_ns.fetch_add(d.as_nanos() as u64, Relaxed);
    }
    pub fn count(&self) -> u64 {
        self.counts.iter().map(|c| c.load(Relaxed)).sum()
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

#[derive(Clone, Debug)]
pub enum Metric {
    Counter(Arc<Counter>),
    Gauge(Arc<Gauge>),
    Histogram(Arc<Histogram>),
}

impl Metric {
    fn strong_count(&self) -> usize {
        match self {
            Metric::Counter(a) => Arc::strong_count(a),
            Metric::Gauge(a) => Arc::strong_count(a),
            Metric::Histogram(a) => Arc::strong_count(a),
        }
    }
}

struct Family {
    help: String,
    kind: Kind,
    /// Rendered label set (`a="1",b="2"`) -> series.
    series: BTreeMap<String, Metric>,
}

fn registry() -> &'static Mutex<BTreeMap<String, Family>> {
    static R: OnceLock<Mutex<BTreeMap<String, Family>>> = OnceLock::new();
    R.get_or_init(|| Mutex::new(BTreeMap::new()))
}

fn valid_name(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(ch) if ch.is_ascii_alphabetic() || ch == '_' || ch == ':')
        && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == ':')
}

fn valid_label(s: &str) -> bool {
    let mut c = s.chars();
    !s.starts_with("__")
        && matches!(c.next(), Some(ch) if ch.is_ascii_alphabetic() || ch == '_')
        && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
}

/// A label value escaped for the text format.
pub fn escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for ch in v.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

fn label_key(labels: &[(&str, &str)]) -> Result<String, String> {
    let mut sorted: Vec<&(&str, &str)> = labels.iter().collect();
    sorted.sort_by_key(|(k, _)| *k);
    let mut key = String::new();
    for (i, (k, v)) in sorted.iter().enumerate() {
        if !valid_label(k) || *k == "le" {
            return Err(format!("invalid metric label name '{k}'"));
        }
        if i > 0 {
            if sorted[i - 1].0 == *k {
                return Err(format!("metric label '{k}' given twice"));
            }
            key.push(',');
        }
        let _ = write!(key, "{k}=\"{}\"", escape(v));
    }
    Ok(key)
}

/// The series `name{labels}` of a family of `kind`, created on first use. Registering the same
/// series again returns the same one; a name already used with another type is an error.
pub fn register(
    name: &str,
    help: &str,
    kind: Kind,
    labels: &[(&str, &str)],
) -> Result<Metric, String> {
    if !valid_name(name) {
        return Err(format!("invalid metric name '{name}'"));
    }
    let key = label_key(labels)?;
    let mut reg = registry().lock();
    let fam = reg.entry(name.to_string()).or_insert_with(|| Family {
        help: help.to_string(),
        kind,
        series: BTreeMap::new(),
    });
    if fam.kind != kind {
        return Err(format!(
            "metric {name} is a {}, not a {}",
            fam.kind.name(),
            kind.name()
        ));
    }
    Ok(fam
        .series
        .entry(key)
        .or_insert_with(|| match kind {
            Kind::Counter => Metric::Counter(Arc::default()),
            Kind::Gauge => Metric::Gauge(Arc::default()),
            Kind::Histogram => Metric::Histogram(Arc::default()),
        })
        .clone())
}

/// A counter series (for Rust callers, whose names are constants: a bad one is a bug).
pub fn counter(name: &str, help: &str, labels: &[(&str, &str)]) -> Arc<Counter> {
    match register(name, help, Kind::Counter, labels) {
        Ok(Metric::Counter(c)) => c,
        other => panic!("metric {name}: {other:?}"),
    }
}

pub fn gauge(name: &str, help: &str, labels: &[(&str, &str)]) -> Arc<Gauge> {
    match register(name, help, Kind::Gauge, labels) {
        Ok(Metric::Gauge(g)) => g,
        other => panic!("metric {name}: {other:?}"),
    }
}

pub fn histogram(name: &str, help: &str, labels: &[(&str, &str)]) -> Arc<Histogram> {
    match register(name, help, Kind::Histogram, labels) {
        Ok(Metric::Histogram(h)) => h,
        other => panic!("metric {name}: {other:?}"),
    }
}

/// Drop the series `name{labels}` if nobody but the registry holds it any more (`extra` other
/// holders being released right now). Lua gauges go away with the services that set them.
pub fn release(name: &str, labels: &[(&str, &str)], extra: usize) {
    let Ok(key) = label_key(labels) else { return };
    let mut reg = registry().lock();
    if let Some(fam) = reg.get_mut(name) {
        if fam.series.get(&key).map(|m| m.strong_count()) == Some(1 + extra) {
            fam.series.remove(&key);
        }
        if fam.series.is_empty() {
            reg.remove(name);
        }
    }
}

fn float(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{v}")
    }
}

fn braces(labels: &str) -> String {
    if labels.is_empty() {
        String::new()
    } else {
        format!("{{{labels}}}")
    }
}

/// The service's name for the `name` label: the script of a Lua service (`snlua room 1 1`
/// is `room`), the module of a native one (`gate`, `logger`, `console`).
pub fn service_name(label: &str) -> &str {
    let mut w = label.split_whitespace();
    match (w.next(), w.next()) {
        (Some("snlua"), Some(script)) => script,
        (Some(m), _) => m,
        _ => "",
    }
}

fn per_service(out: &mut String) {
    let n = crate::node::node();
    let slots = n.registry.all();
    let rows: Vec<(String, &crate::service::Slot)> = slots
        .iter()
        .map(|s| {
            (
                format!(
                    "name=\"{}\",address=\"{}\"",
                    escape(service_name(&s.label)),
                    s.address()
                ),
                &**s,
            )
        })
        .collect();
    type Read = fn(&crate::service::Slot) -> f64;
    let families: [(&str, &str, Kind, Read); 4] = [
        (
            "cirrus_service_messages_total",
            "Messages a service has handled.",
            Kind::Counter,
            |s| s.stats.messages.load(Relaxed) as f64,
        ),
        (
            "cirrus_service_cpu_seconds_total",
            "Time a service has spent handling messages, in seconds.",
            Kind::Counter,
            |s| s.stats.cpu_ns.load(Relaxed) as f64 / 1e9,
        ),
        (
            "cirrus_service_mailbox_length",
            "Messages waiting in a service's mailbox.",
            Kind::Gauge,
            |s| s.mqlen() as f64,
        ),
        (
            "cirrus_service_lua_memory_bytes",
            "Memory of a Lua service's state, in bytes (as of its last message batch).",
            Kind::Gauge,
            |s| s.stats.memory.load(Relaxed) as f64,
        ),
    ];
    for (name, help, kind, read) in families {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {}", kind.name());
        for (labels, s) in &rows {
            if name == "cirrus_service_lua_memory_bytes" && !s.label.starts_with("snlua") {
                continue;
            }
            let _ = writeln!(out, "{name}{{{labels}}} {}", float(read(s)));
        }
    }
    let _ = writeln!(
        out,
        "# HELP cirrus_services Services alive on this node.\n# TYPE cirrus_services gauge\ncirrus_services {}",
        rows.len()
    );
}

fn process(out: &mut String) {
    // statm: sizes in pages; the second field is the resident set.
    if let Ok(s) = std::fs::read_to_string("/proc/self/statm") {
        if let Some(rss) = s
            .split_whitespace()
            .nth(1)
            .and_then(|v| v.parse::<u64>().ok())
        {
            // SAFETY: sysconf has no preconditions.
            let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(1) as u64;
            let _ = writeln!(
                out,
                "# HELP process_resident_memory_bytes Resident memory of the node process, in bytes.\n\
                 # TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes {}",
                rss * page
            );
        }
    }
}

/// The whole exposition: per-service figures, the process, then every registered family.
pub fn render() -> String {
    let mut out = String::with_capacity(16 * 1024);
    per_service(&mut out);
    process(&mut out);
    registered(&mut out);
    out
}

fn registered(out: &mut String) {
    let reg = registry().lock();
    for (name, fam) in reg.iter() {
        let _ = writeln!(
            out,
            "# HELP {name} {}\n# TYPE {name} {}",
            fam.help.replace('\\', "\\\\").replace('\n', "\\n"),
            fam.kind.name()
        );
        for (labels, m) in &fam.series {
            match m {
                Metric::Counter(c) => {
                    let _ = writeln!(out, "{name}{} {}", braces(labels), c.get());
                }
                Metric::Gauge(g) => {
                    let _ = writeln!(out, "{name}{} {}", braces(labels), float(g.get()));
                }
                Metric::Histogram(h) => {
                    let sep = if labels.is_empty() { "" } else { "," };
                    let mut cum = 0u64;
                    for (i, c) in h.counts.iter().enumerate() {
                        cum += c.load(Relaxed);
                        let le = LATENCY_BUCKETS
                            .get(i)
                            .map(|b| float(*b))
                            .unwrap_or_else(|| "+Inf".into());
                        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{le}\"}} {cum}");
                    }
                    let _ = writeln!(
                        out,
                        "{name}_sum{} {}\n{name}_count{} {cum}",
                        braces(labels),
                        float(h.sum_ns.load(Relaxed) as f64 / 1e9),
                        braces(labels)
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_are_shared_typed_and_rendered() {
        let a = counter(
            "cirrus_test_total",
            "A test counter.",
            &[("b", "2"), ("a", "1")],
        );
        let b = counter(
            "cirrus_test_total",
            "A test counter.",
            &[("a", "1"), ("b", "2")],
        );
        a.add(3);
        b.inc();
        assert_eq!(a.get(), 4, "the same label set is the same series");
        assert!(register("cirrus_test_total", "", Kind::Gauge, &[]).is_err());
        assert!(register("bad-name", "", Kind::Gauge, &[]).is_err());
        assert!(register("cirrus_x", "", Kind::Gauge, &[("le", "1")]).is_err());
        let h = histogram(
            "cirrus_test_seconds",
            "A test histogram.",
            &[("op", "q\"x")],
        );
        h.observe(Duration::from_micros(300));
        h.observe(Duration::from_secs(20));
        let g = gauge("cirrus_test_gauge", "A gauge.", &[]);
        g.set(2.5);
        g.add(-1.0);
        let mut text = String::new();
        registered(&mut text);
        assert!(
            text.contains(
                "# TYPE cirrus_test_total counter\ncirrus_test_total{a=\"1\",b=\"2\"} 4\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("cirrus_test_seconds_bucket{op=\"q\\\"x\",le=\"0.0005\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("cirrus_test_seconds_bucket{op=\"q\\\"x\",le=\"+Inf\"} 2\n"),
            "{text}"
        );
        assert!(text.contains("cirrus_test_gauge 1.5\n"), "{text}");
        assert_eq!(g.get(), 1.5);
        assert_eq!(h.count(), 2);
        // 300 µs lands in the 0.0005 bucket, 20 s in +Inf
        assert_eq!(h.counts[2].load(Relaxed), 1);
        assert_eq!(h.counts[LATENCY_BUCKETS.len()].load(Relaxed), 1);
        drop(g);
        release("cirrus_test_gauge", &[], 0);
        assert!(!registry().lock().contains_key("cirrus_test_gauge"));
    }
}
