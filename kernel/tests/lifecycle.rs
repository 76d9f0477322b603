//! Graceful shutdown through the real binary: a node running tests/lifecycle/flows.lua (one
//! flow with two SQL writes and a pause between them) gets SIGTERM in the pause.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct FlowNode {
    child: Child,
    log: Arc<Mutex<String>>,
    db: PathBuf,
    console: u16,
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("cirrus-life-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

impl FlowNode {
    fn start(dir: &Path, extra: &str) -> FlowNode {
        Self::spawn(dir, "flows", extra, false)
    }

    /// A node whose start service is tests/lifecycle/`start`.lua.
    fn spawn(dir: &Path, start: &str, extra: &str, restore: bool) -> FlowNode {
        let console = common::free_port();
        let db = dir.join("flows.db");
        let conf = dir.join("node.lua");
        std::fs::write(
            &conf,
            format!(
                "thread = 2\nharbor = 0\nstart = \"{start}\"\n\
                 luaservice = \"./tests/lifecycle/?.lua;./service/?.lua;./service/?/main.lua\"\n\
                 lua_path = \"./lualib/?.lua;./lualib/?/init.lua\"\n\
                 console_port = {console}\nflow_db = \"{}\"\n\
                 snapshot_file = \"{}\"\n{extra}\n",
                db.display(),
                dir.join("node.snapshot").display()
            ),
        )
        .unwrap();
        let mut cmd = common::cirrus();
        cmd.arg(&conf);
        if restore {
            cmd.arg("--restore");
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn node");
        let log = Arc::new(Mutex::new(String::new()));
        for pipe in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().unwrap()) as Box<dyn Read + Send>,
        ] {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines() {
                    let Ok(line) = line else { break };
                    let mut l = log.lock().unwrap();
                    l.push_str(&line);
                    l.push('\n');
                }
            });
        }
        FlowNode {
            child,
            log,
            db,
            console,
        }
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    fn wait_log(&self, needle: &str, limit: Duration) -> String {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Some(l) = self.log().lines().find(|l| l.contains(needle)) {
                return l.to_string();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("no '{needle}' in the log:\n{}", self.log());
    }

    fn signal(&self, sig: &str) {
        let st = std::process::Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(st.success());
    }

    fn wait_exit(&mut self, limit: Duration) -> i32 {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st.code().unwrap_or(-1);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("node still running after {limit:?}:\n{}", self.log());
    }

    /// The rows of the steps table, in order (read with sqlx).
    fn steps(&self) -> Vec<String> {
        let url = format!("sqlite://{}", self.db.display());
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(async {
                use sqlx::Row;
                let mut c = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
                    .await
                    .unwrap();
                sqlx::query("SELECT step FROM steps ORDER BY id")
                    .fetch_all(&mut c)
                    .await
                    .unwrap()
                    .iter()
                    .map(|r| r.get::<String, _>(0))
                    .collect()
            })
    }

    fn console(&self, line: &str) -> String {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.console)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(format!("{line}\n").as_bytes()).unwrap();
        let mut r = BufReader::new(s);
        let mut text = String::new();
        loop {
            let mut l = String::new();
            if r.read_line(&mut l).unwrap_or(0) == 0 {
                panic!("console closed during {line}: {text}");
            }
            if l.starts_with("<CMD") {
                return text;
            }
            text.push_str(&l);
        }
    }
}

impl Drop for FlowNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// SIGTERM between the two writes: the flow finishes (both written), a flow begun after the
/// signal is refused without running, the onshutdown hook runs after the flow (and can still
/// use SQL), and the node exits 0.
#[test]
fn sigterm_between_two_writes_leaves_both_written() {
    let dir = temp_dir("between");
    let mut node = FlowNode::start(&dir, "flow_pause = 150");
    let line = node.wait_log("FLOW BETWEEN WRITES", Duration::from_secs(20));
    assert!(line.contains("open=1 mine=1"), "{line}");
    let flows = node.console("flows");
    assert!(flows.contains("1 flows open"), "{flows}");
    assert!(flows.contains("\ttwo_writes\t1\t"), "{flows}");
    node.signal("TERM");
    let code = node.wait_exit(Duration::from_secs(20));
    let log = node.log();
    assert_eq!(code, 0, "exit code:\n{log}");
    assert!(log.contains("FLOW DONE"), "{log}");
    assert!(
        log.contains("LATE FLOW ok=false ran=false err=node shutting down"),
        "{log}"
    );
    let hook = log.find("ONSHUTDOWN HOOK RAN").expect("hook ran");
    assert!(
        log.find("FLOW DONE").unwrap() < hook,
        "hook after the flow:\n{log}"
    );
    assert!(log.contains("SQL pools and"), "{log}");
    assert_eq!(node.steps(), ["a", "b", "hook after 2 steps"]);
}

/// Past shutdown_timeout the node logs the flows still open (service and name) and exits 3.
#[test]
fn shutdown_timeout_logs_open_flows_and_exits_3() {
    let dir = temp_dir("timeout");
    let mut node = FlowNode::start(&dir, "flow_pause = 3000\nshutdown_timeout = 1");
    node.wait_log("FLOW BETWEEN WRITES", Duration::from_secs(20));
    let t = Instant::now();
    node.signal("TERM");
    let code = node.wait_exit(Duration::from_secs(10));
    let log = node.log();
    assert_eq!(code, 3, "exit code:\n{log}");
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    assert!(
        log.contains("shutdown_timeout (1 s) passed with 1 flows open"),
        "{log}"
    );
    let open = log
        .lines()
        .find(|l| l.contains("flow still open at exit: two_writes x1 in :"))
        .unwrap_or_else(|| panic!("open flow logged:\n{log}"));
    assert!(open.contains("service=:"), "{open}");
    assert!(!log.contains("FLOW DONE"), "{log}");
    assert!(!log.contains("ONSHUTDOWN HOOK RAN"), "{log}");
    assert_eq!(node.steps(), ["a"]);
}

/// A second SIGTERM does not wait for shutdown_timeout: open flows logged, exit 3 at once.
#[test]
fn second_sigterm_exits_3_now() {
    let dir = temp_dir("second");
    let mut node = FlowNode::start(&dir, "flow_pause = 3000");
    node.wait_log("FLOW BETWEEN WRITES", Duration::from_secs(20));
    node.signal("TERM");
    node.wait_log("SIGTERM: shutting down", Duration::from_secs(5));
    let t = Instant::now();
    node.signal("TERM");
    let code = node.wait_exit(Duration::from_secs(10));
    let log = node.log();
    assert_eq!(code, 3, "exit code:\n{log}");
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert!(
        log.contains("SIGTERM during shutdown: stopping now"),
        "{log}"
    );
    assert!(
        log.contains("flow still open at exit: two_writes x1"),
        "{log}"
    );
}

/// Console `shutdown` is the same graceful path.
#[test]
fn console_shutdown_waits_for_the_flow() {
    let dir = temp_dir("console");
    let mut node = FlowNode::start(&dir, "flow_pause = 100");
    node.wait_log("FLOW BETWEEN WRITES", Duration::from_secs(20));
    let out = node.console("shutdown");
    assert!(out.contains("shutting down: 1 flows open"), "{out}");
    let code = node.wait_exit(Duration::from_secs(20));
    assert_eq!(code, 0, "{}", node.log());
    assert_eq!(node.steps(), ["a", "b", "hook after 2 steps"]);
}

/// SIGHUP freezes the node: the open flow finishes first, the freeze hook's state goes to the
/// snapshot, exit 0. `--restore` hands the state back: the countdown resumes with the time it
/// had left (not from the start), and the snapshot is not used twice.
#[test]
fn sighup_freezes_and_restore_resumes_the_countdown() {
    let dir = temp_dir("freeze");
    let mut node = FlowNode::spawn(&dir, "countdown", "countdown = 400", false);
    node.wait_log("FRESH START", Duration::from_secs(20));
    std::thread::sleep(Duration::from_millis(300));
    node.signal("HUP");
    let code = node.wait_exit(Duration::from_secs(20));
    let log = node.log();
    assert_eq!(code, 0, "exit code:\n{log}");
    assert!(
        log.contains("SHORT FLOW DONE"),
        "the open flow finished first:\n{log}"
    );
    let hook = log
        .lines()
        .find(|l| l.contains("FREEZE HOOK left="))
        .unwrap_or_else(|| panic!("{log}"));
    let left: i64 = hook
        .split("left=")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .and_then(|t| t.parse().ok())
        .unwrap();
    // 400 cs minus the time to the freeze (which waits for the 50 cs flow)
    assert!((50..=360).contains(&left), "{hook}");
    assert!(log.contains("freeze: snapshot of 1 services"), "{log}");
    assert!(dir.join("node.snapshot").exists());
    drop(node);

    let t = Instant::now();
    let node = FlowNode::spawn(&dir, "countdown", "countdown = 400", true);
    let line = node.wait_log("RESTORED left=", Duration::from_secs(20));
    assert!(
        line.contains(&format!("RESTORED left={left} ")) && line.contains("hands=3,2 name=desk 1"),
        "{line}"
    );
    node.wait_log("COUNTDOWN DONE", Duration::from_secs(20));
    let took = t.elapsed();
    assert!(
        took < Duration::from_millis(left as u64 * 10 + 2500),
        "resumed with the time left ({left} cs), took {took:?}"
    );
    assert!(
        took + Duration::from_millis(100) >= Duration::from_millis(left as u64 * 10),
        "the countdown ran its {left} cs, took {took:?}"
    );
    assert!(!node.log().contains("FRESH START"));
    assert!(!dir.join("node.snapshot").exists(), "snapshot used once");
    assert!(dir.join("node.snapshot.restored").exists());
    drop(node);

    // a plain start sets a snapshot aside: a later --restore cannot bring back stale state
    std::fs::rename(
        dir.join("node.snapshot.restored"),
        dir.join("node.snapshot"),
    )
    .unwrap();
    let node = FlowNode::spawn(&dir, "countdown", "countdown = 400", false);
    node.wait_log("FRESH START", Duration::from_secs(20));
    assert!(!dir.join("node.snapshot").exists());
    assert!(dir.join("node.snapshot.unused").exists());
    drop(node);

    // restoring with no snapshot is a config error (exit 2), not a fresh start
    let mut node = FlowNode::spawn(&dir, "countdown", "", true);
    assert_eq!(node.wait_exit(Duration::from_secs(10)), 2, "{}", node.log());
    assert!(
        node.log().contains("cannot read snapshot"),
        "{}",
        node.log()
    );
}
