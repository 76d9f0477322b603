//! The node binary as operators meet it: config errors, skynet configs, console, warnings.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::time::Duration;

fn run_config(config: &str, envs: &[(&str, &str)], limit: u64) -> common::Output {
    let mut c = common::cirrus();
    c.arg(config).stdout(Stdio::piped()).stderr(Stdio::piped());
    for (k, v) in envs {
        c.env(k, v);
    }
    common::wait(c.spawn().unwrap(), Duration::from_secs(limit))
}

#[test]
fn malformed_config_exits_2_naming_file_and_line() {
    let out = run_config("tests/fixtures/bad_syntax.lua", &[], 10);
    assert_eq!(out.code, Some(2), "{}", out.text);
    assert!(out.text.contains("bad_syntax.lua:2"), "{}", out.text);
    assert_eq!(
        out.text.trim().lines().count(),
        1,
        "one-line error: {}",
        out.text
    );
}

#[test]
fn missing_start_service_exits_2_naming_the_key() {
    let out = run_config("tests/fixtures/missing_start.lua", &[], 10);
    assert_eq!(out.code, Some(2), "{}", out.text);
    assert!(
        out.text.contains("`start`") && out.text.contains("no_such_start_service"),
        "{}",
        out.text
    );
}

#[test]
fn missing_config_file_and_unset_env_exit_2() {
    let out = run_config("tests/fixtures/nope.lua", &[], 10);
    assert_eq!(out.code, Some(2), "{}", out.text);
    assert!(out.text.contains("nope.lua"), "{}", out.text);
    let out = run_config(
        "tests/fixtures/node_test.lua",
        &[("CIRRUS_CONSOLE_PORT", "nil")],
        10,
    );
    assert_eq!(out.code, Some(2), "{}", out.text);
    assert!(out.text.contains("CIRRUS_START"), "{}", out.text);
}

#[test]
fn skynet_config_loads_with_notices_for_ignored_keys() {
    let out = run_config("tests/fixtures/skynet_style.lua", &[], 20);
    assert_eq!(out.code, Some(0), "{}", out.text);
    assert!(out.text.contains("HELLO ./skynet.pid"), "{}", out.text);
    // `snax` is read now (skynet.snax finds services through it)
    for key in ["lualoader", "lua_cpath", "cpath", "daemon"] {
        assert!(
            out.text.contains(&format!("`{key}` is ignored")),
            "notice for {key}: {}",
            out.text
        );
    }
    assert!(
        !out.text.contains("`bootstrap` is ignored"),
        "default bootstrap needs no notice"
    );
}

#[test]
fn help_explains_usage() {
    let out = common::wait(
        common::cirrus()
            .arg("--help")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
        Duration::from_secs(5),
    );
    assert_eq!(out.code, Some(0));
    assert!(
        out.text.contains("config") && out.text.contains("sproto"),
        "{}",
        out.text
    );
}

#[test]
fn endless_loop_is_reported_with_the_service() {
    let out = run_config(
        "tests/fixtures/node_test.lua",
        &[("CIRRUS_START", "endless"), ("CIRRUS_CONSOLE_PORT", "nil")],
        30,
    );
    assert_eq!(out.code, Some(0), "{}", out.text);
    assert!(out.text.contains("maybe an endless loop"), "{}", out.text);
    assert!(out.text.contains("ENDLESS true"), "{}", out.text);
}

#[test]
fn mailbox_overload_is_reported() {
    let out = run_config(
        "tests/fixtures/node_test.lua",
        &[("CIRRUS_START", "overload"), ("CIRRUS_CONSOLE_PORT", "nil")],
        30,
    );
    assert_eq!(out.code, Some(0), "{}", out.text);
    assert!(out.text.contains("COUNT 3000"), "{}", out.text);
    assert!(
        out.text
            .contains("May overload, message queue length = 1025"),
        "{}",
        out.text
    );
    assert!(
        out.text
            .contains("May overload, message queue length = 2049"),
        "{}",
        out.text
    );
}

/// Send console commands and read until each `<CMD ...>` terminator.
fn console(port: u16, cmds: &[&str]) -> Vec<String> {
    let mut stream = None;
    for _ in 0..100 {
        if let Ok(s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            stream = Some(s);
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut s = stream.expect("console reachable");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    let mut line = String::new();
    r.read_line(&mut line).unwrap(); // welcome
    let mut outs = Vec::new();
    for c in cmds {
        writeln!(s, "{c}").unwrap();
        let mut out = String::new();
        loop {
            line.clear();
            if r.read_line(&mut line).unwrap() == 0 {
                break;
            }
            out.push_str(&line);
            if line.starts_with("<CMD") {
                break;
            }
        }
        outs.push(out);
    }
    outs
}

#[test]
fn console_commands() {
    let port = common::free_port();
    let mut child = common::cirrus()
        .arg("tests/fixtures/node_test.lua")
        .env("CIRRUS_START", "listener")
        .env("CIRRUS_CONSOLE_PORT", port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let outs = console(
        port,
        &[
            "help",
            "list",
            "stat",
            "mem",
            "gc",
            "service",
            "ping .launcher",
            "bogus",
            "netstat",
        ],
    );
    let hello = outs[1]
        .lines()
        .find(|l| l.contains("snlua listener"))
        .expect("listener listed")
        .to_string();
    let addr = hello.split_whitespace().next().unwrap().to_string();
    let more = console(
        port,
        &[
            &format!("ping {addr}"),
            &format!("exit {addr}"),
            "list",
            &format!("kill {addr}"),
        ],
    );
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        outs[0].contains("list") && outs[0].ends_with("<CMD OK>\n"),
        "{}",
        outs[0]
    );
    assert!(
        outs[1].contains(".launcher") && outs[1].contains("logger"),
        "{}",
        outs[1]
    );
    assert!(
        outs[2].contains("message:") && outs[2].contains("task:"),
        "{}",
        outs[2]
    );
    assert!(
        outs[3].contains(" Kb") && outs[3].contains("total"),
        "{}",
        outs[3]
    );
    assert!(outs[4].contains(" Kb"), "{}", outs[4]);
    assert!(outs[5].ends_with("<CMD OK>\n"), "{}", outs[5]);
    assert!(outs[6].contains(" ms"), "{}", outs[6]);
    assert!(outs[7].contains("<CMD Error>"), "{}", outs[7]);
    assert!(more[0].contains(" ms"), "{}", more[0]);
    assert!(
        outs[8].contains("LISTEN") && outs[8].contains("127.0.0.1:"),
        "{}",
        outs[8]
    );
    assert!(
        !more[2].contains("snlua listener"),
        "listener exited: {}",
        more[2]
    );
    assert!(
        more[3].contains("<CMD Error>"),
        "killing a gone service is an error: {}",
        more[3]
    );
}

#[test]
fn logger_writes_service_lines_to_the_log_file() {
    let path = std::env::temp_dir().join(format!("cirrus-log-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let out = run_config(
        "tests/fixtures/logfile.lua",
        &[("CIRRUS_LOG_FILE", path.to_str().unwrap())],
        20,
    );
    assert_eq!(out.code, Some(0), "{}", out.text);
    let log = std::fs::read_to_string(&path).expect("log file written");
    let line = log
        .lines()
        .find(|l| l.contains("written to 3 the log file"))
        .expect("service line in log");
    // `2026-11-25 10:00:00.12 [:0000000a] message`
    let bracket = line.find("[:").expect("address prefix");
    assert_eq!(&line[bracket + 10..bracket + 12], "] ", "{line}");
    assert!(
        line.as_bytes()[4] == b'-' && line.as_bytes()[13] == b':',
        "timestamp: {line}"
    );
    assert!(
        log.contains("cirrus node started"),
        "tracing lines share the file: {log}"
    );
    assert!(
        !out.text.contains("written to 3"),
        "nothing on stdout: {}",
        out.text
    );
}

#[test]
fn stdin_console_launches_each_line() {
    use std::io::Write;
    let mut c = common::cirrus();
    c.arg("tests/fixtures/node_test.lua")
        .env("CIRRUS_START", "console")
        .env("CIRRUS_CONSOLE_PORT", "nil")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // an unknown service is logged and the console goes on; blank lines are skipped
    writeln!(stdin, "no_such_service_here\n\nlog_once").unwrap();
    let out = common::wait(child, Duration::from_secs(20));
    drop(stdin);
    assert_eq!(out.code, Some(0), "{}", out.text);
    assert!(out.text.contains("no_such_service_here"), "{}", out.text);
    assert!(out.text.contains("LAUNCH snlua log_once"), "{}", out.text);
    assert!(
        out.text.contains("written to 3 the log file"),
        "{}",
        out.text
    );
}
