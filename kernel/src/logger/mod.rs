//! The logger: a native service that writes `skynet.error` text as
//! `2026-11-25 10:00:00.12 [:0000000a] message`, to stdout or the `logger` file. Rust-side
//! `tracing` events go to the same sink so one file tells the whole story in order.

use crate::service::{fmt_handle, Actor, Message, Slot, PTYPE_TEXT};
use parking_lot::Mutex;
use std::io::Write;
use std::sync::{Arc, OnceLock};

type Sink = Mutex<Box<dyn Write + Send>>;
static SINK: OnceLock<Sink> = OnceLock::new();

/// Open the log destination: `None` is stdout.
pub fn init(path: Option<&str>) -> std::io::Result<()> {
    let w: Box<dyn Write + Send> = match path {
        Some(p) => {
            if let Some(dir) = std::path::Path::new(p).parent() {
                if !dir.as_os_str().is_empty() {
                    std::fs::create_dir_all(dir)?;
                }
            }
            Box::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)?,
            )
        }
        None => Box::new(std::io::stdout()),
    };
    let _ = SINK.set(Mutex::new(w));
    Ok(())
}

fn with_sink(f: impl FnOnce(&mut dyn Write)) {
    match SINK.get() {
        Some(s) => {
            let mut w = s.lock();
            f(&mut **w);
            let _ = w.flush();
        }
        None => f(&mut std::io::stdout()),
    }
}

/// Local wall-clock time with centiseconds, like skynet's logger.
pub fn timestamp() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as libc::time_t;
    let cs = now.subsec_millis() / 10;
    // SAFETY: localtime_r writes into the tm we own; a zeroed tm is a valid initial value.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    unsafe { libc::localtime_r(&secs, &mut tm) };
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:02}",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        cs
    )
}

/// Write one service log line.
pub fn write_line(source: u32, text: &[u8]) {
    // one write per line, so lines printed meanwhile (Lua's print) never land inside it
    let mut line = format!("{} [{}] ", timestamp(), fmt_handle(source)).into_bytes();
    line.extend_from_slice(text);
    line.push(b'\n');
    with_sink(|w| {
        let _ = w.write_all(&line);
    });
}

/// The logger service itself.
pub struct Logger;

impl Actor for Logger {
    fn dispatch(&mut self, _slot: &Arc<Slot>, msg: Message) {
        if msg.ptype == PTYPE_TEXT {
            write_line(msg.source, &msg.data);
        }
    }
}

/// Write what is still in the logger's mailbox: lines logged just before the node quit (a
/// freeze hook's, a shutdown's) that no worker will run the logger for any more.
pub fn drain() {
    let n = crate::node::node();
    let h = n.logger();
    if h == 0 {
        return;
    }
    let Some(slot) = n.registry.get(h) else {
        return;
    };
    // Holding the actor: a worker still finishing a logger batch goes first.
    let _actor = slot.actor.lock();
    while let Some(m) = slot.pop() {
        if m.ptype == PTYPE_TEXT {
            write_line(m.source, &m.data);
        }
    }
}

/// `tracing` writer into the same sink.
#[derive(Clone, Copy)]
pub struct TracingWriter;

pub struct LineBuf(Vec<u8>);

impl Write for LineBuf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LineBuf {
    fn drop(&mut self) {
        let buf = std::mem::take(&mut self.0);
        with_sink(|w| {
            let _ = w.write_all(&buf);
        });
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for TracingWriter {
    type Writer = LineBuf;
    fn make_writer(&'a self) -> Self::Writer {
        LineBuf(Vec::with_capacity(128))
    }
}

/// Install the tracing subscriber (level from `CIRRUS_LOG`, default info).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CIRRUS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(TracingWriter)
        .with_ansi(false)
        .with_target(false)
        .try_init();
}
