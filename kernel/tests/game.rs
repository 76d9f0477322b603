//! The game tier end to end: a real game node (the all-in-one config/node.lua with test
//! overrides) on free ports, and Lua client suites (tests/game/test_*.lua, a real TCP client
//! in tests/lualib/gameclient.lua) run from a second `cirrus` process against it.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct GameNode {
    child: Child,
    log: Arc<Mutex<String>>,
    pub tcp: u16,
    pub ws: u16,
    pub console: u16,
    /// The HTTP push port, when the node serves one.
    pub push: u16,
    pub dir: PathBuf,
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("cirrus-game-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Kill what still runs from `dir`: game servers the locator started on its own (standby
/// servers, `locator_start_cmd`) are the locator node's children and outlive it when the test
/// kills the cluster.
fn kill_strays(dir: &Path) {
    let needle = dir.to_string_lossy().into_owned();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return;
    };
    for p in procs.flatten() {
        let Ok(pid) = p.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let cmdline = std::fs::read(p.path().join("cmdline")).unwrap_or_default();
        if pid != std::process::id() as i32 && String::from_utf8_lossy(&cmdline).contains(&needle) {
            // SAFETY: a plain kill of a process of our own test's directory.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
}

impl GameNode {
    /// Start the all-in-one node with `extra` config lines (after the defaults) in `dir`.
    pub fn start(dir: &Path, extra: &str) -> GameNode {
        let root = common::root();
        let console = common::free_port();
        let conf = dir.join("node.lua");
        std::fs::write(
            &conf,
            format!(
                "include \"{root}/config/node.lua\"\n\
                 sql_url = \"sqlite://{dir}/game.db\"\n\
                 gate_port = 0\nws_port = 0\nconsole_port = {console}\npush_http_port = 0\n\
                 gate_address = \"127.0.0.1\"\n\
                 rooms_file = \"{root}/tests/game/rooms_fast.lua\"\n\
                 locator_standby = \"\"\n\
                 {extra}\n",
                root = root.display(),
                dir = dir.display(),
            ),
        )
        .unwrap();
        Self::spawn(&conf, dir, console, &[])
    }

    /// Start again from the config [`GameNode::start`] wrote in `dir`, with `--restore`.
    pub fn restore(dir: &Path) -> GameNode {
        let conf = dir.join("node.lua");
        let text = std::fs::read_to_string(&conf).unwrap();
        let console = text
            .lines()
            .find_map(|l| l.strip_prefix("console_port = "))
            .and_then(|p| p.trim().parse().ok())
            .unwrap();
        Self::spawn_args(&conf, dir, console, &[], &["--restore"])
    }

    /// Start a node from a config file with extra environment; waits for its ready line.
    pub fn spawn(conf: &Path, dir: &Path, console: u16, envs: &[(&str, String)]) -> GameNode {
        Self::spawn_args(conf, dir, console, envs, &[])
    }

    /// [`GameNode::spawn`] with extra command-line arguments (`--restore`).
    pub fn spawn_args(
        conf: &Path,
        dir: &Path,
        console: u16,
        envs: &[(&str, String)],
        args: &[&str],
    ) -> GameNode {
        let mut cmd = common::cirrus();
        cmd.arg(conf)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn game node");
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
        let mut node = GameNode {
            child,
            log,
            tcp: 0,
            ws: 0,
            console,
            push: 0,
            dir: dir.to_path_buf(),
        };
        let line = node
            .wait_log("GAME NODE READY", Duration::from_secs(30))
            .unwrap_or_else(|| panic!("game node {} not ready:\n{}", conf.display(), node.log()));
        if let Some(l) = node.log().lines().find(|l| l.contains("HTTP push on ")) {
            let addr = l.rsplit("HTTP push on ").next().unwrap_or("");
            let port = addr
                .trim_end_matches("/push")
                .rsplit(':')
                .next()
                .unwrap_or("0");
            node.push = port.parse().unwrap_or(0);
        }
        for kv in line.split_whitespace().filter(|w| w.contains('=')) {
            let (k, v) = kv.split_once('=').unwrap();
            match k {
                "tcp" => node.tcp = v.parse().unwrap(),
                "ws" => node.ws = v.parse().unwrap(),
                _ => {}
            }
        }
        node
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    pub fn wait_log(&self, needle: &str, limit: Duration) -> Option<String> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Some(l) = self.log().lines().find(|l| l.contains(needle)) {
                return Some(l.to_string());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Run Lua client suites against this node; fails with both logs unless all passed.
    pub fn assert_suites(&self, tests: &str, run: &str) {
        self.assert_suites_with(tests, run, "")
    }

    /// The same with `extra` ("key=value,...") for the suite (`game_extra`).
    pub fn assert_suites_with(&self, tests: &str, run: &str, extra: &str) {
        let out = common::run_lua_client(
            tests,
            &[
                ("CIRRUS_GAME_EXTRA", extra.to_string()),
                ("CIRRUS_GAME_PORT", self.tcp.to_string()),
                ("CIRRUS_GAME_WS_PORT", self.ws.to_string()),
                ("CIRRUS_GAME_CONSOLE", self.console.to_string()),
                ("CIRRUS_GAME_PUSH_PORT", self.push.to_string()),
                ("CIRRUS_GAME_RUN", run.to_string()),
                ("CIRRUS_GAME_DIR", self.dir.display().to_string()),
            ],
            Duration::from_secs(180),
        );
        println!("{}", out.text);
        let ok = !out.text.contains("\nFAIL ")
            && !out.text.starts_with("FAIL ")
            && out.text.contains(" 0 failed")
            && !out.text.contains(" 0 passed")
            && out.code == Some(0);
        assert!(
            ok,
            "suite {tests} failed:\n{}\n--- game node log ---\n{}",
            out.text,
            self.log()
        );
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Wait up to `limit` for the node to exit on its own; its exit status.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Ok(Some(st)) = self.child.try_wait() {
                return Some(st);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    pub fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.log()
    }
}

impl Drop for GameNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn allinone_round_settles_and_persists() {
    let dir = temp_dir("play");
    let run = format!("{}", std::process::id());
    let node = GameNode::start(&dir, "");
    node.assert_suites("test_play", &run);
    // Gold survives a restart of the node (it lives in SQL, not in the process).
    let log = node.stop();
    assert!(!log.contains("not settled"), "{log}");
    let node = GameNode::start(&dir, "");
    node.assert_suites("test_persist", &run);
}

#[test]
fn allinone_login_chat_and_bad_input() {
    let dir = temp_dir("misc");
    let node = GameNode::start(&dir, "");
    node.assert_suites(
        "test_login,test_chat,test_badinput",
        &std::process::id().to_string(),
    );
}

#[test]
fn sessions_survive_reconnects() {
    let dir = temp_dir("reconnect");
    let node = GameNode::start(&dir, "replay_window = 16");
    node.assert_suites("test_reconnect,test_push", &std::process::id().to_string());
}

/// 20 concurrent logins of one player through the TCP and the WebSocket gate: exactly one
/// session is left, every other connection was kicked (reason 1) or refused.
#[test]
fn concurrent_logins_leave_one_session() {
    use cirrus::gameclient::{Client, Options, Transport};
    let dir = temp_dir("dup");
    let node = GameNode::start(&dir, "");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let device = format!("dup-{}", std::process::id());
    rt.block_on(async {
        let mut tasks = Vec::new();
        for i in 0..20 {
            let (addr, transport) = if i % 2 == 0 {
                (format!("127.0.0.1:{}", node.tcp), Transport::Tcp)
            } else {
                (format!("127.0.0.1:{}", node.ws), Transport::WebSocket)
            };
            let opts = Options {
                transport,
                ..Options::default()
            };
            let device = device.clone();
            tasks.push(tokio::spawn(async move {
                let (c, pushes) = Client::connect(&addr, &opts).await.expect("connect");
                let r = c.visitor_login(&device).await;
                (c, pushes, r.is_ok())
            }));
        }
        let mut clients = Vec::new();
        for t in tasks {
            clients.push(t.await.unwrap());
        }
        assert!(clients.iter().any(|c| c.2), "some login succeeded");
        // kicks travel: give them a moment, then count what is still open
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        let mut live = Vec::new();
        for (c, _, _) in &clients {
            if !c.is_closed() {
                live.push(c);
            } else if let Some(k) = c.kicked() {
                assert_eq!(k.reason, 1, "kicked as a duplicate login");
            }
        }
        assert_eq!(
            live.len(),
            1,
            "exactly one live session, log:\n{}",
            node.log()
        );
        let r = live[0]
            .request("player_info", cirrus::sproto::Struct::new())
            .await
            .unwrap();
        assert_eq!(r.code, 0, "the live session works");
        // and the others' late packets are refused: none of them can act
        for (c, _, _) in &clients {
            if c.is_closed() {
                assert!(c
                    .request("player_info", cirrus::sproto::Struct::new())
                    .await
                    .is_err());
            }
        }
    });
}

#[test]
fn offline_past_the_reconnect_window_logs_out() {
    let dir = temp_dir("offline");
    let node = GameNode::start(&dir, "reconnect_window = 2");
    node.assert_suites("test_offline", &std::process::id().to_string());
}

#[test]
fn login_queue_admits_in_order() {
    let dir = temp_dir("queue");
    let node = GameNode::start(
        &dir,
        "max_online = 2\nqueue_max = 3\nqueue_push_interval = 1",
    );
    node.assert_suites("test_queue", &std::process::id().to_string());
}

#[test]
fn locator_starts_and_stops_a_standby_server() {
    let dir = temp_dir("standby");
    let root = common::root();
    let node = GameNode::start(
        &dir,
        &format!(
            "rooms_file = \"{}/tests/game/rooms_small.lua\"\ngame_rooms = \"1\"\n\
             locator_standby = \"2\"\nlocator_idle = 2",
            root.display()
        ),
    );
    node.assert_suites("test_standby", &std::process::id().to_string());
}

#[test]
fn idle_connections_are_kicked() {
    let dir = temp_dir("idle");
    let node = GameNode::start(&dir, "idle_timeout = 1");
    node.assert_suites("test_idle", &std::process::id().to_string());
}

/// Run `cirrus-bench robot` against the node with `args`; the JSON report (the robot exits
/// non-zero on any error: a failed request, a gap or duplicate in `ud`, a wrong settlement).
fn robot(node: &GameNode, tag: &str, args: &[&str]) -> serde_json::Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cirrus-bench"))
        .args(["robot", "--addr"])
        .arg(format!("127.0.0.1:{}", node.tcp))
        .args(args)
        .args(["--json", "--room", "1", "--think", "100", "--prefix"])
        .arg(format!("{tag}-{}-", std::process::id()))
        .output()
        .expect("run cirrus-bench robot");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "robot failed: {}\n{stdout}\n{}\nnode log:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        node.log()
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("robot --json output: {e}\n{stdout}"))
}

/// The load robot plays the real node: every round settles, balances add up, `ud` is
/// continuous; then bots drop their connections mid-game and resume with nothing lost.
#[test]
fn robot_plays_the_allinone_node() {
    let dir = temp_dir("robot");
    let node = GameNode::start(&dir, "");
    let report = robot(
        &node,
        "robot",
        &["--bots", "4", "--duration", "10", "--scenario", "full"],
    );
    let n = |r: &serde_json::Value, k: &str| r[k].as_u64().unwrap_or_else(|| panic!("{k} in {r}"));
    assert_eq!(n(&report, "logins"), 4, "{report}");
    assert!(
        n(&report, "games") >= 2,
        "a 10 s run plays rounds: {report}"
    );
    assert_eq!(
        n(&report, "settlement_mismatches") + n(&report, "gold_mismatches"),
        0
    );
    assert_eq!(n(&report, "unfinished"), 0, "{report}");
    assert!(
        report["chat"]["received"].as_u64() > Some(0),
        "the full scenario chats: {report}"
    );
    assert_eq!(n(&report, "errors"), 0, "{report}");

    let report = robot(
        &node,
        "drop",
        &[
            "--bots",
            "4",
            "--duration",
            "10",
            "--scenario",
            "reconnect",
            "--drop-every",
            "1",
        ],
    );
    assert!(
        n(&report, "reconnects") >= 8,
        "bots dropped and resumed: {report}"
    );
    assert!(n(&report, "games") >= 2, "{report}");
    assert_eq!(report["ud"]["gaps"].as_u64(), Some(0), "{report}");
    assert_eq!(report["ud"]["duplicates"].as_u64(), Some(0), "{report}");
    assert_eq!(n(&report, "errors"), 0, "{report}");
    let log = node.stop();
    assert!(!log.contains("not settled"), "{log}");
}

/// One console command: (`<CMD OK>` seen, the text before it).
fn console(port: u16, line: &str) -> (bool, String) {
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("console connect");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(format!("{line}\n").as_bytes()).unwrap();
    let mut r = BufReader::new(s);
    let mut text = String::new();
    let mut first = true;
    loop {
        let mut l = String::new();
        if r.read_line(&mut l).unwrap_or(0) == 0 {
            panic!("console closed during {line}: {text}");
        }
        if first && l.starts_with("Welcome") {
            first = false;
            continue;
        }
        first = false;
        match l.trim_end() {
            "<CMD OK>" => return (true, text),
            "<CMD Error>" => return (false, text),
            _ => text.push_str(&l),
        }
    }
}

#[test]
fn console_reload_swaps_the_code_of_new_services_only_when_it_compiles() {
    let dir = temp_dir("reload");
    let probe = dir.join("probe.lua");
    let version = |v: &str| {
        format!(
            "local skynet = require \"skynet\"\nlocal tag = ...\n\
             skynet.start(function() skynet.error(\"probe {v} \" .. tag) end)\n"
        )
    };
    std::fs::write(&probe, version("v1")).unwrap();
    let node = GameNode::start(
        &dir,
        &format!("luaservice = \"{}/?.lua;\" .. luaservice", dir.display()),
    );
    let c = node.console;
    let started = |tag: &str, expect: &str| {
        let (ok, text) = console(c, &format!("start probe {tag}"));
        assert!(ok, "start probe {tag}: {text}");
        let line = format!("probe {expect} {tag}");
        assert!(
            node.wait_log(&line, Duration::from_secs(5)).is_some(),
            "no '{line}' in the log:\n{}",
            node.log()
        );
    };
    started("a", "v1");
    // Edited on disk: services launched afterwards still run the cached code.
    std::fs::write(&probe, version("v2")).unwrap();
    started("b", "v1");
    // A broken file: reload refuses, names the file and line, and nothing changes.
    std::fs::write(
        &probe,
        "local skynet = require \"skynet\"\nskynet.start(function(\n",
    )
    .unwrap();
    let (ok, text) = console(c, "reload probe");
    assert!(!ok, "reload of a broken file succeeded: {text}");
    assert!(
        text.contains("probe.lua:") && text.contains("nothing changed"),
        "{text}"
    );
    started("c", "v1");
    // Fixed: reload reports the changed file; new services run v2.
    std::fs::write(&probe, version("v2")).unwrap();
    let (ok, text) = console(c, "reload probe");
    assert!(ok, "reload: {text}");
    assert!(
        text.contains("changed") && text.contains("probe.lua"),
        "{text}"
    );
    started("d", "v2");
    // Unknown names are an error, not a silent no-op.
    let (ok, text) = console(c, "reload no_such_service");
    assert!(!ok && text.contains("no service no_such_service"), "{text}");
}

#[test]
fn console_hotfix_of_a_plain_service_main_file_keeps_its_locals() {
    let dir = temp_dir("hotfix-main");
    let counter = |step: &str| {
        format!(
            "local skynet = require \"skynet\"\nlocal count = 0\nlocal CMD = {{}}\n\
             function CMD.add(n) count = count + {step} * n return count end\n\
             skynet.start(function()\n\
             \tskynet.dispatch(\"lua\", function(_, _, cmd, ...) skynet.retpack(CMD[cmd](...)) end)\n\
             end)\n"
        )
    };
    std::fs::write(dir.join("counter.lua"), counter("1")).unwrap();
    // `add` called inside the service, through the console
    std::fs::write(
        dir.join("add.lua"),
        "local skynet = require \"skynet\"\n\
         print(\"count\", skynet.call(skynet.self(), \"lua\", \"add\", ...))\n",
    )
    .unwrap();
    let node = GameNode::start(
        &dir,
        &format!("luaservice = \"{}/?.lua;\" .. luaservice", dir.display()),
    );
    let c = node.console;
    let (ok, addr) = console(c, "start counter");
    assert!(ok, "{addr}");
    let addr = addr.trim().to_string();
    let add = |n: u32| {
        let (ok, text) = console(c, &format!("inject {addr} {}/add.lua {n}", dir.display()));
        assert!(ok, "{text}");
        text.trim().to_string()
    };
    assert_eq!(add(2), "count\t2");
    assert_eq!(add(3), "count\t5");
    // v2 adds ten times n; the count so far is kept
    std::fs::write(dir.join("counter_v2.lua"), counter("10")).unwrap();
    let (ok, text) = console(
        c,
        &format!("hotfix {addr} {}/counter_v2.lua main", dir.display()),
    );
    assert!(ok, "{text}");
    assert!(text.contains("hotfix main"), "{text}");
    assert_eq!(add(1), "count\t15");
    // the main file found by its path: v3 written over counter.lua itself
    std::fs::write(dir.join("counter.lua"), counter("100")).unwrap();
    let (ok, text) = console(c, &format!("hotfix {addr} {}/counter.lua", dir.display()));
    assert!(ok, "{text}");
    assert_eq!(add(1), "count\t115");
    // a patch whose chunk raises changes nothing
    std::fs::write(dir.join("bad.lua"), "local x = nil\nx.y = 1\n").unwrap();
    let (ok, text) = console(c, &format!("hotfix {addr} {}/bad.lua main", dir.display()));
    assert!(!ok && text.contains("bad.lua:2"), "{text}");
    assert_eq!(add(1), "count\t215");
}

#[test]
fn console_inject_and_hotfix_fix_live_desks() {
    let dir = temp_dir("hotfix");
    let node = GameNode::start(&dir, "");
    node.assert_suites("test_hotfix", &std::process::id().to_string());
    let log = node.stop();
    assert!(log.contains("hotfix desk from"), "{log}");
    assert!(log.contains("failed, old code kept"), "{log}");
}

/// `GET path` on 127.0.0.1:port: (status line, body).
fn http_get(port: u16, path: &str) -> (String, String) {
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("metrics connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").expect("http response");
    (
        head.lines().next().unwrap_or("").to_string(),
        body.to_string(),
    )
}

/// The value of the first sample of `name` whose labels include every `k="v"` in `labels`.
fn sample(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
        .find(|l| labels.iter().all(|x| l.contains(x)))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn metrics_scrape_passes_promtool_and_counts_the_game() {
    let dir = temp_dir("metrics");
    let port = common::free_port();
    // the online store on Redis (tests/ensure_services.sh), records in SQLite
    let node = GameNode::start(
        &dir,
        &format!(
            "metrics_port = {port}\nonline_store = \"redis\"\nstore_prefix = \"metrics{}:\"",
            std::process::id()
        ),
    );
    assert!(
        node.log()
            .contains(&format!("metrics at http://127.0.0.1:{port}/metrics")),
        "metrics listen on loopback by default:\n{}",
        node.log()
    );
    node.assert_suites("test_play,test_chat", &std::process::id().to_string());
    // login refreshes the online gauge once a second
    std::thread::sleep(Duration::from_millis(1300));
    let (status, text) = http_get(port, "/metrics");
    assert!(status.contains(" 200 "), "{status}");
    let file = dir.join("scrape.prom");
    std::fs::write(&file, &text).unwrap();
    let out = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::fs::File::open(&file).unwrap())
        .output()
        .expect(
            "promtool not found: run tests/ensure_services.sh (installs the prometheus package)",
        );
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{}{}\n--- scrape ---\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let at_least = |name: &str, labels: &[&str], min: f64| {
        let v = sample(&text, name, labels)
            .unwrap_or_else(|| panic!("no {name} {labels:?} in the scrape:\n{text}"));
        assert!(v >= min, "{name} {labels:?} = {v}, expected >= {min}");
        v
    };
    // per service
    at_least("cirrus_service_messages_total", &["name=\"room\""], 1.0);
    at_least(
        "cirrus_service_cpu_seconds_total",
        &["name=\"login\""],
        1e-9,
    );
    at_least(
        "cirrus_service_lua_memory_bytes",
        &["name=\"room\""],
        10_000.0,
    );
    at_least("cirrus_service_mailbox_length", &["name=\"gate\""], 0.0);
    // gate: the suites' players connected over TCP and exchanged frames
    at_least(
        "cirrus_gate_connections_accepted_total",
        &["transport=\"tcp\""],
        4.0,
    );
    let fin = at_least(
        "cirrus_gate_frames_received_total",
        &["transport=\"tcp\""],
        10.0,
    );
    at_least(
        "cirrus_gate_frames_sent_total",
        &["transport=\"tcp\""],
        10.0,
    );
    at_least(
        "cirrus_gate_received_bytes_total",
        &["transport=\"tcp\""],
        fin,
    );
    at_least("cirrus_gate_connections", &["transport=\"tcp\""], 0.0);
    // stores
    at_least(
        "cirrus_store_operation_seconds_count",
        &["backend=\"redis\"", "op=\"command\""],
        10.0,
    );
    at_least(
        "cirrus_store_errors_total",
        &["backend=\"redis\"", "op=\"command\""],
        0.0,
    );
    at_least(
        "cirrus_store_operation_seconds_count",
        &["backend=\"sqlite\"", "op=\"commit\""],
        1.0,
    );
    at_least(
        "cirrus_store_operation_seconds_bucket",
        &["backend=\"sqlite\"", "op=\"query\"", "le=\"+Inf\""],
        1.0,
    );
    // game
    at_least(
        "cirrus_game_games_finished_total",
        &["result=\"settled\"", "room=\"1\"", "server=\"1\""],
        1.0,
    );
    at_least("cirrus_game_chat_messages_total", &["scope=\"hall\""], 1.0);
    at_least("cirrus_game_online_players", &[], 4.0);
    at_least("cirrus_game_queued_logins", &[], 0.0);
    at_least("cirrus_game_desks_playing", &["room=\"1\""], 0.0);
    at_least("cirrus_game_room_players", &["room=\"1\""], 0.0);
    // only /metrics is served
    let (status, _) = http_get(port, "/other");
    assert!(status.contains(" 404 "), "{status}");
}

#[test]
fn bull_poker_rules() {
    common::assert_lua_suite("test_bull", 1);
}

/// A MariaDB database for one test, dropped at the end.
struct MysqlDb {
    admin: String,
    name: String,
    url: String,
}

fn mysql_exec(url: &str, sql: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut c = sqlx::MySqlConnection::connect(url)
            .await
            .unwrap_or_else(|e| panic!("MariaDB at {url}: {e}"));
        sqlx::query(sql)
            .execute(&mut c)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    });
}

impl MysqlDb {
    fn create(tag: &str) -> MysqlDb {
        let admin = std::env::var("CIRRUS_TEST_MYSQL_URL")
            .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into());
        let name = format!("cirrus_{tag}_{}", std::process::id());
        mysql_exec(&admin, &format!("CREATE DATABASE {name}"));
        let base = admin.rsplit_once('/').unwrap().0;
        let url = format!("{base}/{name}");
        MysqlDb { admin, name, url }
    }
}

impl Drop for MysqlDb {
    fn drop(&mut self) {
        mysql_exec(&self.admin, &format!("DROP DATABASE {}", self.name));
    }
}

/// Kill a process group started by a node (the locator's standby game nodes).
fn kill_group(pid: i32) {
    // SAFETY: plain syscall on a process group our test tree created.
    unsafe {
        libc::kill(-pid, libc::SIGKILL);
    }
}

/// The role nodes of a local cluster on Redis (keys under a per-test prefix) and a MariaDB
/// database: locator, login, hall, chat, game1, then one gate node per name in `gates`.
fn cluster_envs(dir: &Path, db: &MysqlDb) -> Vec<(&'static str, String)> {
    let bin = env!("CARGO_BIN_EXE_cirrus");
    let prefix = format!("cirrus_test:{}:{}:", std::process::id(), dir.display());
    vec![
        ("CIRRUS_REDIS", "127.0.0.1:6379".to_string()),
        ("CIRRUS_SQL", db.url.clone()),
        ("CIRRUS_STORE_PREFIX", prefix),
        ("CIRRUS_STANDBY", "game2:2".to_string()),
        (
            "CIRRUS_START_GAME",
            format!("{bin} {}/game.lua", dir.display()),
        ),
    ]
}

/// The environment of the cluster's game1 node (with [`cluster_envs`]).
fn game1_envs() -> Vec<(&'static str, String)> {
    vec![
        ("CIRRUS_NODE", "game1".to_string()),
        ("CIRRUS_SERVER_ID", "1".to_string()),
    ]
}

fn cluster_nodes(dir: &Path, db: &MysqlDb, gates: &[&str]) -> Vec<GameNode> {
    cluster_nodes_with(dir, db, gates, "")
}

/// [`cluster_nodes`] with extra config lines for the gate nodes.
fn cluster_nodes_with(dir: &Path, db: &MysqlDb, gates: &[&str], gate_extra: &str) -> Vec<GameNode> {
    let root = common::root();
    let envs = cluster_envs(dir, db);
    let conf = |role: &str, file: &str, extra: &str| -> (PathBuf, u16) {
        let console = common::free_port();
        let path = dir.join(format!("{file}.lua"));
        std::fs::write(
            &path,
            format!(
                "include \"{root}/config/{role}.lua\"\nconsole_port = {console}\n\
                 {extra}\nrooms_file = \"{root}/tests/game/rooms_small.lua\"\ngame_rooms = \"1\"\n\
                 locator_start_log = \"{dir}/log/\"\nlocator_idle = 5\n",
                root = root.display(),
                dir = dir.display()
            ),
        )
        .unwrap();
        (path, console)
    };
    // (config under config/, file name, extra config lines, extra environment)
    type Spec<'a> = (&'a str, String, String, Vec<(&'a str, String)>);
    let mut specs: Vec<Spec> = vec![
        ("locator", "locator".into(), String::new(), vec![]),
        ("login", "login".into(), String::new(), vec![]),
        ("hall", "hall".into(), String::new(), vec![]),
        ("chat", "chat".into(), String::new(), vec![]),
        (
            "game",
            "game".into(),
            // the standby node starts from this file too: no fixed console port
            format!(
                "console_port = nil\nsnapshot_file = \"{}/game1.snapshot\"",
                dir.display()
            ),
            game1_envs(),
        ),
    ];
    for g in gates {
        specs.push((
            "gate",
            g.to_string(),
            format!(
                "nodename = \"{g}\"\ngate_port = 0\nws_port = 0\npush_http_port = 0\n\
                 gate_address = \"127.0.0.1\"\ndrain_timeout = 20\n{gate_extra}"
            ),
            vec![],
        ));
    }
    let mut nodes = Vec::new();
    for (role, file, extra, more) in specs {
        let (path, console) = conf(role, &file, &extra);
        let mut all = envs.clone();
        all.extend(more);
        nodes.push(GameNode::spawn(&path, dir, console, &all));
    }
    nodes
}

/// Print every node's log and the standby nodes' logs (a failed cluster test).
fn dump_cluster(dir: &Path, nodes: &[GameNode]) {
    for n in nodes {
        println!("--- node log ---\n{}", n.log());
    }
    let _ = std::fs::read_dir(dir.join("log")).map(|d| {
        for f in d.flatten() {
            println!(
                "--- {} ---\n{}",
                f.path().display(),
                std::fs::read_to_string(f.path()).unwrap_or_default()
            );
        }
    });
}

#[test]
fn cluster_of_role_nodes_plays_and_starts_a_standby_node() {
    let dir = temp_dir("cluster");
    let db = MysqlDb::create("cluster");
    let nodes = cluster_nodes(&dir, &db, &["gate1"]);
    let gate = nodes.last().unwrap();
    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        gate.assert_suites("test_cluster", &std::process::id().to_string())
    }));
    // the standby node is the locator's child, in its own process group
    let locator_log = nodes[0].log();
    for line in locator_log.lines() {
        if let Some(rest) = line.split("(pid ").nth(1) {
            if let Some(pid) = rest.split(')').next().and_then(|p| p.parse::<i32>().ok()) {
                kill_group(pid);
            }
        }
    }
    if out.is_err() {
        dump_cluster(&dir, &nodes);
    }
    drop(nodes);
    drop(db);
    assert!(out.is_ok(), "cluster suite failed");
    assert!(
        locator_log.contains("started standby server 2 as node game2"),
        "{locator_log}"
    );
    let standby = std::fs::read_to_string(dir.join("log/game2.log")).unwrap_or_default();
    assert!(standby.contains("stopping on request"), "{standby}");
}

/// Gates come and go under their players: gate1 is drained (its clients are redirected and
/// resume on another gate, gate1 exits), then gate2 is killed with SIGKILL and its players
/// resume on gate3 from the replay window in Redis; the round at their desk finishes.
#[test]
fn cluster_gates_drain_and_die_without_losing_sessions() {
    let dir = temp_dir("gates");
    let db = MysqlDb::create("gates");
    let mut nodes = cluster_nodes(&dir, &db, &["gate1", "gate2", "gate3"]);
    let (g1, g2, g3) = (&nodes[5], &nodes[6], &nodes[7]);
    let extra = format!(
        "gate2={},gate3={},gate1_console={},gate2_pid={}",
        g2.tcp,
        g3.tcp,
        g1.console,
        g2.pid()
    );
    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        g1.assert_suites_with("test_gates", &std::process::id().to_string(), &extra)
    }));
    let drained = nodes[5].wait_exit(Duration::from_secs(20));
    if out.is_err() || drained.is_none() {
        dump_cluster(&dir, &nodes);
    }
    let g1_log = nodes[5].log();
    drop(nodes);
    drop(db);
    assert!(out.is_ok(), "gates suite failed");
    let st = drained.expect("the drained gate exits");
    assert!(st.success(), "gate1 exit status {st:?}\n{g1_log}");
    assert!(g1_log.contains("drained, the node exits"), "{g1_log}");
}

/// SIGTERM with players mid-round: each gets `kick` reason 3 "maintenance" (not a reset), the
/// node finishes its flows and onshutdown hooks, closes its stores and exits 0.
#[test]
fn sigterm_kicks_players_with_maintenance_and_exits_0() {
    let dir = temp_dir("sigterm");
    let mut node = GameNode::start(&dir, "");
    node.assert_suites_with(
        "test_shutdown",
        &std::process::id().to_string(),
        &format!("pid={}", node.pid()),
    );
    let st = node
        .wait_exit(Duration::from_secs(20))
        .unwrap_or_else(|| panic!("node still running after SIGTERM:\n{}", node.log()));
    let log = node.log();
    assert_eq!(st.code(), Some(0), "exit code after SIGTERM:\n{log}");
    assert!(
        log.contains("watchdog: shutting down, 2 clients kicked (reason 3 maintenance)"),
        "{log}"
    );
    assert!(log.contains("SQL pools and"), "stores closed:\n{log}");
    assert!(log.contains("shutdown complete: exit 0"), "{log}");
}

/// Rows of the game node's SQL database: (rounds' detail JSON, players' (id, gold)).
fn rounds_and_golds(dir: &Path) -> (Vec<serde_json::Value>, Vec<(i64, i64)>) {
    let url = format!("sqlite://{}/game.db?mode=ro", dir.display());
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(async {
            use sqlx::Row;
            let mut c = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
                .await
                .unwrap();
            let rounds = sqlx::query("SELECT detail FROM game_rounds ORDER BY id")
                .fetch_all(&mut c)
                .await
                .unwrap()
                .iter()
                .map(|r| serde_json::from_str(&r.get::<String, _>(0)).unwrap())
                .collect();
            let golds = sqlx::query("SELECT id, gold FROM players ORDER BY id")
                .fetch_all(&mut c)
                .await
                .unwrap()
                .iter()
                .map(|r| (r.get::<i64, _>(0), r.get::<i64, _>(1)))
                .collect();
            (rounds, golds)
        })
}

/// kill -9 mid-play leaves committed data intact: every recorded round is zero-sum (before
/// fees), and each player's gold is the start gold plus exactly the deltas of the recorded
/// rounds (no settlement half written). The restarted node takes the same players back.
#[test]
fn kill_9_mid_play_leaves_settlements_consistent() {
    let dir = temp_dir("kill9");
    let mut node = GameNode::start(&dir, "");
    let prefix = format!("kill9-{}-", std::process::id());
    let mut bots = std::process::Command::new(env!("CARGO_BIN_EXE_cirrus-bench"))
        .args(["robot", "--addr"])
        .arg(format!("127.0.0.1:{}", node.tcp))
        .args(["--bots", "8", "--duration", "60", "--json", "--room", "1"])
        .args(["--think", "20", "--prefix", &prefix])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run cirrus-bench robot");
    // play until a few rounds are in SQL, then kill the node without warning
    let start = Instant::now();
    loop {
        let (rounds, _) = rounds_and_golds(&dir);
        if rounds.len() >= 4 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no rounds settled:\n{}",
            node.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(700));
    let st = std::process::Command::new("kill")
        .args(["-9", &node.pid().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    assert!(node.wait_exit(Duration::from_secs(10)).is_some());
    let _ = bots.kill();
    let _ = bots.wait();

    let (rounds, golds) = rounds_and_golds(&dir);
    assert!(rounds.len() >= 4);
    let mut expect: std::collections::HashMap<i64, i64> = std::collections::HashMap::new();
    for r in &rounds {
        let seats = r.as_array().expect("detail is a list of seats");
        let mut sum = 0;
        for s in seats {
            let score = s["score"].as_i64().unwrap();
            let fee = s["fee"].as_i64().unwrap();
            sum += score;
            *expect.entry(s["uid"].as_i64().unwrap()).or_insert(0) += score - fee;
        }
        assert_eq!(sum, 0, "a round's scores add up to zero: {r}");
    }
    assert!(!golds.is_empty());
    for (uid, gold) in &golds {
        assert_eq!(
            *gold,
            10000 + expect.get(uid).copied().unwrap_or(0),
            "player {uid}: gold = start gold + the recorded rounds' deltas"
        );
    }
    // the restarted node takes the same players back, with their gold
    let node = GameNode::start(&dir, "");
    let report = robot(
        &node,
        "kill9",
        &["--bots", "8", "--duration", "3", "--scenario", "play"],
    );
    assert_eq!(report["errors"].as_u64(), Some(0), "{report}");
    let (_, after) = rounds_and_golds(&dir);
    assert_eq!(after.len(), golds.len(), "the same players logged in again");
}

/// SIGHUP mid-bet freezes the game node (snapshot, exit 0); `--restore` brings the desk back
/// in the bet phase with the time it had left: the round completes with the same hands, the
/// bet made before the freeze, and a settlement that adds up.
#[test]
fn frozen_round_completes_after_restore_with_the_same_hands() {
    let dir = temp_dir("freeze");
    let snap = dir.join("node.snapshot");
    let mut node = GameNode::start(&dir, &format!("snapshot_file = \"{}\"", snap.display()));
    node.assert_suites_with(
        "test_freeze",
        &std::process::id().to_string(),
        &format!("pid={}", node.pid()),
    );
    let st = node
        .wait_exit(Duration::from_secs(20))
        .unwrap_or_else(|| panic!("node still running after SIGHUP:\n{}", node.log()));
    let log = node.log();
    assert_eq!(st.code(), Some(0), "exit code after SIGHUP:\n{log}");
    assert!(log.contains("frozen: 3 players"), "{log}");
    assert!(snap.exists(), "snapshot written:\n{log}");
    assert!(
        rounds_and_golds(&dir).0.is_empty(),
        "nothing settled before the freeze"
    );
    let seen: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("freeze.json")).unwrap()).unwrap();

    let node = GameNode::restore(&dir);
    assert!(
        node.wait_log("restored: 3 players (3 offline)", Duration::from_secs(5))
            .is_some(),
        "{}",
        node.log()
    );
    // the bet countdown goes on with the time it had left, then the round plays out
    let line = node
        .wait_log("resumes round 1 in phase 2 with ", Duration::from_secs(5))
        .unwrap_or_else(|| panic!("desk resumed in the bet phase:\n{}", node.log()));
    let left: u64 = line
        .split(" with ")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .and_then(|t| t.parse().ok())
        .unwrap();
    assert!((1..=200).contains(&left), "{line}");
    let start = Instant::now();
    let (rounds, golds) = loop {
        let (rounds, golds) = rounds_and_golds(&dir);
        if !rounds.is_empty() {
            break (rounds, golds);
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "the restored round did not settle:\n{}",
            node.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        start.elapsed() + Duration::from_millis(800) >= Duration::from_millis(left * 10),
        "settled only after the bet countdown's {left} cs ({:?})",
        start.elapsed()
    );
    assert_eq!(rounds.len(), 1);
    let detail = rounds[0].as_array().unwrap();
    assert_eq!(detail.len(), 3, "{detail:?}");
    let mut sum = 0;
    for p in seen["players"].as_array().unwrap() {
        let uid = p["uid"].as_i64().unwrap();
        let d = detail
            .iter()
            .find(|d| d["uid"].as_i64() == Some(uid))
            .unwrap_or_else(|| panic!("uid {uid} in {detail:?}"));
        let hand: Vec<i64> = d["hand"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_i64().unwrap())
            .collect();
        let shown: Vec<i64> = p["hand"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_i64().unwrap())
            .collect();
        assert_eq!(hand.len(), 5);
        assert_eq!(hand[..4], shown[..], "the same hand after the restore");
        assert_eq!(
            d["banker"].as_bool(),
            Some(p["seat"] == seen["banker"]),
            "{d}"
        );
        if seen["bettor"].as_i64() == Some(uid) {
            assert_eq!(d["bet"].as_i64(), seen["bet"].as_i64(), "the bet kept: {d}");
        }
        if seen["late"].as_i64() == Some(uid) {
            assert_eq!(d["bet"].as_i64(), Some(1), "the timeout default: {d}");
        }
        let delta = d["score"].as_i64().unwrap() - d["fee"].as_i64().unwrap();
        sum += d["score"].as_i64().unwrap();
        let gold = golds.iter().find(|g| g.0 == uid).unwrap().1;
        assert_eq!(gold, 10000 + delta, "gold of {uid} after the settlement");
    }
    assert_eq!(sum, 0, "zero-sum round");
    let log = node.stop();
    assert!(!log.contains("not settled"), "{log}");
}

/// Freeze behind a gate node: SIGHUP on game1 makes the gate hold its room traffic; game1
/// writes its snapshot and exits; requests sent meanwhile wait at the gate; game1 restored
/// with `--restore` takes them, in order, and the round completes with the same hands and a
/// settlement that adds up, without any player disconnected.
#[test]
fn cluster_freeze_holds_requests_at_the_gate_until_the_restore() {
    let dir = temp_dir("cfreeze");
    let db = MysqlDb::create("cfreeze");
    let mut nodes = cluster_nodes(&dir, &db, &["gate1"]);
    let extra = format!("game_pid={}", nodes[4].pid());
    let restored = std::sync::Mutex::new(None::<GameNode>);
    let frozen_code = std::sync::Mutex::new(None);
    let out = std::thread::scope(|sc| {
        let (head, tail) = nodes.split_at_mut(5);
        let gate = &tail[0];
        let suite = sc.spawn(|| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                gate.assert_suites_with(
                    "test_freeze_cluster",
                    &std::process::id().to_string(),
                    &extra,
                )
            }))
        });
        // game1 freezes and exits; then the held requests are sent; then restore it
        let game = &mut head[4];
        let st = game.wait_exit(Duration::from_secs(30));
        *frozen_code.lock().unwrap() = st.and_then(|s| s.code());
        if st.is_some() {
            std::fs::write(dir.join("frozen"), "").unwrap();
            let start = Instant::now();
            while !dir.join("sent").exists() && start.elapsed() < Duration::from_secs(20) {
                std::thread::sleep(Duration::from_millis(20));
            }
            // the requests reach the gate and wait there
            std::thread::sleep(Duration::from_millis(500));
            let mut envs = cluster_envs(&dir, &db);
            envs.extend(game1_envs());
            *restored.lock().unwrap() = Some(GameNode::spawn_args(
                &dir.join("game.lua"),
                &dir,
                0,
                &envs,
                &["--restore"],
            ));
        }
        suite.join().unwrap()
    });
    let game_log = nodes[4].log();
    let restored = restored.into_inner().unwrap();
    if out.is_err() {
        dump_cluster(&dir, &nodes);
        if let Some(r) = &restored {
            println!("--- restored game1 ---\n{}", r.log());
        }
    }
    let gate_log = nodes[5].log();
    let rounds = {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            use sqlx::{Connection, Row};
            let mut c = sqlx::MySqlConnection::connect(&db.url).await.unwrap();
            sqlx::query("SELECT detail FROM game_rounds ORDER BY id")
                .fetch_all(&mut c)
                .await
                .unwrap()
                .iter()
                .map(|r| r.get::<String, _>(0))
                .collect::<Vec<_>>()
        })
    };
    drop(restored);
    drop(nodes);
    kill_strays(&dir);
    drop(db);
    assert!(out.is_ok(), "freeze cluster suite failed");
    assert_eq!(*frozen_code.lock().unwrap(), Some(0), "{game_log}");
    assert!(game_log.contains("1 of 1 gate nodes hold"), "{game_log}");
    assert!(gate_log.contains("held requests go on"), "{gate_log}");
    let seen: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("freeze.json")).unwrap()).unwrap();
    assert_eq!(rounds.len(), 1, "{rounds:?}");
    let detail: serde_json::Value = serde_json::from_str(&rounds[0]).unwrap();
    let detail = detail.as_array().unwrap();
    let mut sum = 0;
    for p in seen["players"].as_array().unwrap() {
        let uid = p["uid"].as_i64().unwrap();
        let d = detail
            .iter()
            .find(|d| d["uid"].as_i64() == Some(uid))
            .unwrap_or_else(|| panic!("uid {uid} in {detail:?}"));
        let hand: Vec<&serde_json::Value> = d["hand"].as_array().unwrap().iter().take(4).collect();
        let shown: Vec<&serde_json::Value> = p["hand"].as_array().unwrap().iter().collect();
        assert_eq!(hand, shown, "the same hand after the restore");
        if let Some(b) = seen["bets"][uid.to_string()].as_i64() {
            assert_eq!(d["bet"].as_i64(), Some(b), "{d}");
        }
        sum += d["score"].as_i64().unwrap();
    }
    assert_eq!(sum, 0, "zero-sum round");
}

/// A frozen game node that does not come back within the gate's freeze_timeout: the held
/// request is answered GAME_DOWN and the player is back in the hall; a request past the
/// freeze_buffer is answered BUSY at once. Nothing hangs.
#[test]
fn cluster_freeze_timeout_sends_players_back_to_the_hall() {
    let dir = temp_dir("cfreezeto");
    let db = MysqlDb::create("cfreezeto");
    let mut nodes = cluster_nodes_with(
        &dir,
        &db,
        &["gate1"],
        "freeze_timeout = 2\nfreeze_buffer = 2\nwatchdog_workers = 1",
    );
    let extra = format!("game_pid={}", nodes[4].pid());
    let out = std::thread::scope(|sc| {
        let (head, tail) = nodes.split_at_mut(5);
        let gate = &tail[0];
        let suite = sc.spawn(|| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                gate.assert_suites_with(
                    "test_freeze_timeout",
                    &std::process::id().to_string(),
                    &extra,
                )
            }))
        });
        if head[4].wait_exit(Duration::from_secs(30)).is_some() {
            std::fs::write(dir.join("frozen"), "").unwrap();
        }
        suite.join().unwrap()
    });
    if out.is_err() {
        dump_cluster(&dir, &nodes);
    }
    let gate_log = nodes[5].log();
    drop(nodes);
    kill_strays(&dir);
    drop(db);
    assert!(out.is_ok(), "freeze timeout suite failed");
    assert!(gate_log.contains("game1 not back after 2 s"), "{gate_log}");
}

/// `cirrus-bench robot` mid-game when the node gets SIGTERM: every bot's connection ends
/// with a `kick` reason 3 maintenance, none with a reset or a close without a kick; the node
/// exits 0.
#[test]
fn robot_mid_game_sees_maintenance_kicks_on_sigterm() {
    let dir = temp_dir("robotterm");
    let mut node = GameNode::start(&dir, "");
    let bots = std::process::Command::new(env!("CARGO_BIN_EXE_cirrus-bench"))
        .args(["robot", "--addr"])
        .arg(format!("127.0.0.1:{}", node.tcp))
        .args(["--bots", "4", "--duration", "12", "--json", "--room", "1"])
        .args(["--think", "50", "--scenario", "play", "--prefix"])
        .arg(format!("robotterm-{}-", std::process::id()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run cirrus-bench robot");
    // mid-game: a first round is settled, the bots play on at their desks
    let start = Instant::now();
    while rounds_and_golds(&dir).0.is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no round settled:\n{}",
            node.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    let st = std::process::Command::new("kill")
        .args(["-TERM", &node.pid().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let exit = node
        .wait_exit(Duration::from_secs(20))
        .unwrap_or_else(|| panic!("node still running:\n{}", node.log()));
    assert_eq!(exit.code(), Some(0), "{}", node.log());
    let out = bots.wait_with_output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("robot json: {e}: {}", String::from_utf8_lossy(&out.stdout)));
    let kinds = report["connection_errors"].as_array().unwrap();
    let kind = |k: &str| kinds.iter().find(|e| e["kind"] == k);
    let kicked = kind("kicked").unwrap_or_else(|| panic!("no kick seen: {report}"));
    assert_eq!(
        kicked["count"].as_u64(),
        Some(4),
        "every bot kicked once: {report}"
    );
    for s in kicked["samples"].as_array().unwrap() {
        assert!(
            s.as_str().unwrap().contains("reason 3: maintenance"),
            "{report}"
        );
    }
    for bad in ["io", "closed by server"] {
        assert!(kind(bad).is_none(), "{bad} errors: {report}");
    }
}
