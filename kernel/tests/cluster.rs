//! Three nodes as separate processes on loopback: a runs the Lua cluster suite against b and
//! c; when c stops itself, the harness restarts it so a can see it come back.

mod common;

use std::io::Write;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

fn start(node: &str, start: &str, cluster_file: &str) -> Child {
    common::cirrus()
        .arg("tests/cluster/node.lua")
        .env("CIRRUS_NODE", node)
        .env("CIRRUS_START", start)
        .env("CIRRUS_CLUSTER_FILE", cluster_file)
        .env("CIRRUS_METRICS_PORT", common::free_port().to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn node")
}

#[test]
fn three_nodes_call_send_proxy_and_recover() {
    let file = std::env::temp_dir().join(format!("cirrus-cluster-{}.lua", std::process::id()));
    let (pa, pb, pc) = (
        common::free_port(),
        common::free_port(),
        common::free_port(),
    );
    let mut f = std::fs::File::create(&file).unwrap();
    writeln!(
        f,
        "a = \"127.0.0.1:{pa}\"\nb = \"127.0.0.1:{pb}\"\nc = \"127.0.0.1:{pc}\""
    )
    .unwrap();
    let file = file.to_str().unwrap().to_string();
    let mut b = start("b", "cluster_server", &file);
    let mut c = start("c", "cluster_server", &file);
    // a's suite also checks its /metrics (per-peer cluster series)
    let a = start("a", "runner", &file);
    // a's suite asks c to stop; bring it back on the same address.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut restarted = false;
    let mut a = Some(a);
    let mut out_a = None;
    while Instant::now() < deadline {
        if !restarted {
            if let Some(st) = c.try_wait().unwrap() {
                assert_eq!(st.code(), Some(0), "c stopped cleanly");
                // stay down long enough for a to see calls fail
                std::thread::sleep(Duration::from_secs(2));
                c = start("c", "cluster_server", &file);
                restarted = true;
            }
        }
        if let Some(st) = a.as_mut().unwrap().try_wait().unwrap() {
            let _ = st;
            out_a = Some(common::wait(a.take().unwrap(), Duration::from_secs(1)));
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = match out_a {
        Some(o) => o,
        None => common::wait(a.take().unwrap(), Duration::from_secs(1)),
    };
    let _ = b.kill();
    let _ = c.kill();
    let _ = b.wait();
    let _ = c.wait();
    println!("{}", out.text);
    assert!(restarted, "node c was asked to stop and restarted");
    assert!(
        !out.text.contains("\nFAIL "),
        "a case failed:\n{}",
        out.text
    );
    assert!(out.text.contains("lua: 7 passed, 0 failed"), "{}", out.text);
    assert_eq!(out.code, Some(0));
}

fn start_discovery(node: &str, start: &str, key: &str) -> Child {
    common::cirrus()
        .arg("tests/cluster/discovery_node.lua")
        .env("CIRRUS_NODE", node)
        .env("CIRRUS_START", start)
        .env("CIRRUS_REDIS_URL", redis_url())
        .env("CIRRUS_NODES_KEY", key)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn node")
}

#[test]
fn discovery_through_redis_finds_restarted_nodes_and_drops_dead_ones() {
    let key = format!("cirrus_test:{}:cluster_nodes", std::process::id());
    let mut b = start_discovery("b", "cluster_server", &key);
    let mut c = start_discovery("c", "cluster_server", &key);
    let mut a = start_discovery("a", "runner", &key);
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut restarted = false;
    let mut finished = false;
    while Instant::now() < deadline {
        if !restarted {
            if let Some(st) = c.try_wait().unwrap() {
                assert_eq!(st.code(), Some(0), "c stopped cleanly");
                std::thread::sleep(Duration::from_millis(500));
                c = start_discovery("c", "cluster_server", &key);
                restarted = true;
            }
        }
        if a.try_wait().unwrap().is_some() {
            finished = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = common::wait(a, Duration::from_secs(1));
    let _ = b.kill();
    let _ = c.kill();
    let _ = b.wait();
    let _ = c.wait();
    println!("{}", out.text);
    assert!(finished, "node a finished");
    assert!(restarted, "node c was restarted");
    assert!(
        !out.text.contains("\nFAIL "),
        "a case failed:\n{}",
        out.text
    );
    assert!(out.text.contains("lua: 3 passed, 0 failed"), "{}", out.text);
    assert_eq!(out.code, Some(0));
}

/// The Redis the test command provides (tests/ensure_services.sh starts one if needed).
fn redis_url() -> String {
    std::env::var("CIRRUS_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379/0".into())
}

/// The router case of seed 002: router, game and cross nodes started in different orders all
/// end with the game node knowing the cross node's active event.
#[test]
fn tiers_converge_whatever_the_start_order() {
    use std::io::{BufRead, BufReader};
    let orders: [[&str; 3]; 3] = [
        ["router", "game1", "cross1"],
        ["game1", "cross1", "router"],
        ["cross1", "router", "game1"],
    ];
    for order in orders {
        let file = std::env::temp_dir().join(format!(
            "cirrus-tiers-{}-{}.lua",
            std::process::id(),
            order[0]
        ));
        let mut f = std::fs::File::create(&file).unwrap();
        for n in ["router", "game1", "cross1"] {
            writeln!(f, "{n} = \"127.0.0.1:{}\"", common::free_port()).unwrap();
        }
        let file = file.to_str().unwrap().to_string();
        let mut children = Vec::new();
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        for n in order {
            let script = match n {
                "router" => "xrouter",
                "game1" => "xgame",
                _ => "xcross",
            };
            let mut child = start(n, script, &file);
            if n == "game1" {
                let out = child.stdout.take().unwrap();
                let tx = tx.clone();
                std::thread::spawn(move || {
                    for line in BufReader::new(out).lines().map_while(Result::ok) {
                        let _ = tx.send(line);
                    }
                });
            }
            children.push(child);
            std::thread::sleep(Duration::from_millis(400));
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        let (mut got, mut req) = (false, false);
        while Instant::now() < deadline && !(got && req) {
            if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
                got |= line.contains("GOT EVENT dragon FROM cross 1");
                req |= line.contains("REQUEST OK dragon");
            }
        }
        for mut c in children {
            let _ = c.kill();
            let _ = c.wait();
        }
        assert!(
            got,
            "order {order:?}: the game node never got the cross event"
        );
        assert!(req, "order {order:?}: the routed request failed");
    }
}
