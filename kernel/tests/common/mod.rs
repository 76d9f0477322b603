//! Run the real `cirrus` binary from the repo root and collect what it prints.
#![allow(dead_code)]

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

pub fn cirrus() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cirrus"));
    c.current_dir(root());
    c
}

/// A free loopback TCP port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct Output {
    pub code: Option<i32>,
    pub text: String,
}

/// Wait for a child with a deadline; kill it if it overruns. Returns stdout+stderr.
pub fn wait(mut child: Child, limit: Duration) -> Output {
    // Drain both pipes while the child runs: a node that logs more than a pipe holds (every
    // LAUNCH and KILL line of 10k services) would otherwise block on write.
    let readers: Vec<_> = [
        child
            .stdout
            .take()
            .map(|o| Box::new(o) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|e| Box::new(e) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    .map(|mut r| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            v
        })
    })
    .collect();
    let start = Instant::now();
    let code = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st.code();
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut text = String::new();
    for r in readers {
        text.push_str(&String::from_utf8_lossy(&r.join().unwrap_or_default()));
    }
    Output { code, text }
}

/// Run Lua test services through `tests/config.lua` and return the output.
pub fn run_lua(tests: &str, threads: u32, console: Option<u16>, limit: Duration) -> Output {
    let port = console
        .map(|p| p.to_string())
        .unwrap_or_else(|| "nil".into());
    run_lua_env(tests, threads, &[("CIRRUS_CONSOLE_PORT", port)], limit)
}

/// Like [`run_lua`], with extra environment variables for the node (server addresses, ports).
pub fn run_lua_env(tests: &str, threads: u32, envs: &[(&str, String)], limit: Duration) -> Output {
    let mut cmd = cirrus();
    cmd.arg("tests/config.lua")
        .env("CIRRUS_TESTS", tests)
        .env("CIRRUS_THREADS", threads.to_string())
        .env("CIRRUS_CONSOLE_PORT", "nil")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    wait(cmd.spawn().expect("spawn cirrus"), limit)
}

/// Run a Lua test suite and fail with its output unless every case passed.
pub fn assert_lua_suite(tests: &str, threads: u32) {
    assert_lua_suite_env(tests, threads, &[])
}

/// [`assert_lua_suite`] with extra environment variables.
pub fn assert_lua_suite_env(tests: &str, threads: u32, envs: &[(&str, String)]) {
    let out = run_lua_env(tests, threads, envs, Duration::from_secs(120));
    println!("{}", out.text);
    assert!(
        !out.text.contains("\nFAIL ") && !out.text.starts_with("FAIL "),
        "a Lua case failed:\n{}",
        out.text
    );
    assert!(
        out.text.contains(" 0 failed"),
        "suite did not finish:\n{}",
        out.text
    );
    assert!(
        !out.text.contains(" 0 passed"),
        "suite ran no case:\n{}",
        out.text
    );
    assert_eq!(out.code, Some(0), "exit code; output:\n{}", out.text);
}

/// Run the Lua client suites of the game tests (tests/game/client.lua) with `envs`.
pub fn run_lua_client(tests: &str, envs: &[(&str, String)], limit: Duration) -> Output {
    let mut cmd = cirrus();
    cmd.arg("tests/game/client.lua")
        .env("CIRRUS_TESTS", tests)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    wait(cmd.spawn().expect("spawn cirrus"), limit)
}

/// TLS test certificates made with rcgen under the test target dir (tls.rs, skynet.rs):
/// a CA, a server certificate for localhost and 127.0.0.1 signed by it, its key, and another key.
pub struct Certs {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
    pub other_key: PathBuf,
    pub ca_der: Vec<u8>,
}

pub fn make_certs(name: &str) -> Certs {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    };
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("tls-{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Cirrus test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let mut params =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
    let other = KeyPair::generate().unwrap();
    let write = |file: &str, text: String| {
        let p = dir.join(file);
        std::fs::write(&p, text).unwrap();
        p
    };
    Certs {
        ca: write("ca.pem", ca.pem()),
        cert: write("cert.pem", cert.pem()),
        key: write("key.pem", key.serialize_pem()),
        other_key: write("other-key.pem", other.serialize_pem()),
        ca_der: ca.der().to_vec(),
    }
}

pub fn envs(c: &Certs) -> Vec<(&'static str, String)> {
    let s = |p: &PathBuf| p.display().to_string();
    vec![
        ("CIRRUS_TLS_CA", s(&c.ca)),
        ("CIRRUS_TLS_CERT", s(&c.cert)),
        ("CIRRUS_TLS_KEY", s(&c.key)),
        ("CIRRUS_TLS_OTHER_KEY", s(&c.other_key)),
    ]
}

/// A node process whose stdout and stderr are collected as it runs, killed when dropped.
pub struct LoggedNode {
    pub child: Child,
    log: std::sync::Arc<std::sync::Mutex<String>>,
}

impl LoggedNode {
    pub fn spawn(mut cmd: Command) -> LoggedNode {
        use std::io::{BufRead, BufReader};
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn cirrus");
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
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
        LoggedNode { child, log }
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Wait until a log line contains `needle`; returns that line.
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
}

impl Drop for LoggedNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
