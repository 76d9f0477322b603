//! `redis.watch(conf)`: a pub/sub connection owned by one tokio task. Lua asks it to
//! (p)(un)subscribe and reads messages from a queue. A lost connection is reported once to the
//! reader, then redialed and every channel and pattern is subscribed again.

use super::conn::{describe, Config, ConnectFailure};
use crate::service::{fmt_handle, Handle};
use ::redis::aio::{PubSubSink, PubSubStream};
use ::redis::Client;
use futures_util::StreamExt;
use parking_lot::Mutex;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Subscribe,
    Unsubscribe,
    PSubscribe,
    PUnsubscribe,
}

impl Kind {
    pub fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "subscribe" => Kind::Subscribe,
            "unsubscribe" => Kind::Unsubscribe,
            "psubscribe" => Kind::PSubscribe,
            "punsubscribe" => Kind::PUnsubscribe,
            _ => return None,
        })
    }
}

/// What a subscriber reads: a message, or the news that the connection dropped.
#[derive(Debug)]
pub enum Event {
    Message {
        channel: Vec<u8>,
        payload: Vec<u8>,
        pattern: Option<Vec<u8>>,
    },
    Lost(String),
}

struct Request {
    kind: Kind,
    names: Vec<Vec<u8>>,
    done: oneshot::Sender<Result<(), String>>,
}

/// The Lua-side handle of a watch task. Dropping it ends the task.
pub struct Watch {
    pub label: String,
    requests: mpsc::UnboundedSender<Request>,
    pub events: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Event>>>,
    /// `Some(reason)` while disconnected, so calls fail at once.
    pub down: Arc<Mutex<Option<String>>>,
}

impl Watch {
    /// Start the task; the returned receiver resolves once the first connection is up.
    pub fn start(
        cfg: Config,
        owner: Handle,
    ) -> Result<(Watch, oneshot::Receiver<Result<(), ConnectFailure>>), String> {
        let client = cfg.client()?;
        let label = cfg.label();
        let (req_tx, req_rx) = mpsc::unbounded_channel();
        let (ev_tx, ev_rx) = mpsc::unbounded_channel();
        let (ready_tx, ready_rx) = oneshot::channel();
        let down = Arc::new(Mutex::new(Some("connecting".to_string())));
        let task = Task {
            client,
            label: label.clone(),
            connect_timeout: cfg.connect_timeout,
            owner,
            requests: req_rx,
            events: ev_tx,
            down: down.clone(),
            channels: BTreeSet::new(),
            patterns: BTreeSet::new(),
        };
        crate::node::node().io().spawn(task.run(ready_tx));
        Ok((
            Watch {
                label,
                requests: req_tx,
                events: Arc::new(tokio::sync::Mutex::new(ev_rx)),
                down,
            },
            ready_rx,
        ))
    }

    /// Queue a (p)(un)subscribe; the receiver resolves when the server confirmed it.
    pub fn request(
        &self,
        kind: Kind,
        names: Vec<Vec<u8>>,
    ) -> Result<oneshot::Receiver<Result<(), String>>, String> {
        if let Some(why) = self.down.lock().clone() {
            return Err(format!(
                "{} watch is unreachable ({why}); reconnecting",
                self.label
            ));
        }
        let (done, rx) = oneshot::channel();
        self.requests
            .send(Request { kind, names, done })
            .map_err(|_| format!("{} watch is closed", self.label))?;
        Ok(rx)
    }
}

struct Task {
    client: Client,
    label: String,
    connect_timeout: Duration,
    owner: Handle,
    requests: mpsc::UnboundedReceiver<Request>,
    events: mpsc::UnboundedSender<Event>,
    down: Arc<Mutex<Option<String>>>,
    channels: BTreeSet<Vec<u8>>,
    patterns: BTreeSet<Vec<u8>>,
}

enum Ended {
    /// The Lua side dropped or disconnected the watch.
    Closed,
    Lost(String),
}

impl Task {
    async fn dial(&self) -> Result<(PubSubSink, PubSubStream), String> {
        self.dial_first().await.map_err(|e| match e {
            ConnectFailure::Socket(why) | ConnectFailure::Auth(why) => {
                format!("{}: {why}", self.label)
            }
        })
    }

    async fn dial_first(&self) -> Result<(PubSubSink, PubSubStream), ConnectFailure> {
        let ps = tokio::time::timeout(self.connect_timeout, self.client.get_async_pubsub())
            .await
            .map_err(|_| ConnectFailure::Socket("Connection timed out".into()))?
            .map_err(|e| ConnectFailure::from_redis(&e))?;
        let (mut sink, stream) = ps.split();
        if !self.channels.is_empty() {
            sink.subscribe(self.channels.iter().collect::<Vec<_>>())
                .await
                .map_err(|e| ConnectFailure::from_redis(&e))?;
        }
        if !self.patterns.is_empty() {
            sink.psubscribe(self.patterns.iter().collect::<Vec<_>>())
                .await
                .map_err(|e| ConnectFailure::from_redis(&e))?;
        }
        Ok((sink, stream))
    }

    async fn run(mut self, ready: oneshot::Sender<Result<(), ConnectFailure>>) {
        let (sink, stream) = match self.dial_first().await {
            Ok(s) => s,
            Err(e) => {
                let _ = ready.send(Err(e));
                return;
            }
        };
        *self.down.lock() = None;
        let _ = ready.send(Ok(()));
        let mut link = Some((sink, stream));
        let mut backoff = Duration::from_millis(100);
        loop {
            if let Some((sink, stream)) = link.take() {
                match self.serve(sink, stream).await {
                    Ended::Closed => return,
                    Ended::Lost(why) => {
                        tracing::warn!(service = %fmt_handle(self.owner), link = %self.label, "watch connection lost: {why}; reconnecting");
                        *self.down.lock() = Some(why.clone());
                        let _ = self.events.send(Event::Lost(format!(
                            "{} watch connection lost: {why}",
                            self.label
                        )));
                        backoff = Duration::from_millis(100);
                    }
                }
            }
            // Down: fail requests at once while waiting to redial.
            let sleep = tokio::time::sleep(backoff);
            tokio::pin!(sleep);
            loop {
                tokio::select! {
                    _ = &mut sleep => break,
                    req = self.requests.recv() => match req {
                        None => return,
                        Some(r) => {
                            let why = self.down.lock().clone().unwrap_or_default();
                            let _ = r.done.send(Err(format!("{} watch is unreachable ({why}); reconnecting", self.label)));
                        }
                    }
                }
            }
            match self.dial().await {
                Ok(l) => {
                    tracing::info!(service = %fmt_handle(self.owner), link = %self.label, "watch reconnected");
                    *self.down.lock() = None;
                    link = Some(l);
                }
                Err(e) => {
                    *self.down.lock() = Some(e);
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                }
            }
        }
    }

    async fn serve(&mut self, mut sink: PubSubSink, mut stream: PubSubStream) -> Ended {
        loop {
            tokio::select! {
                req = self.requests.recv() => {
                    let Some(r) = req else { return Ended::Closed };
                    let res = match r.kind {
                        Kind::Subscribe => sink.subscribe(&r.names).await,
                        Kind::Unsubscribe => sink.unsubscribe(&r.names).await,
                        Kind::PSubscribe => sink.psubscribe(&r.names).await,
                        Kind::PUnsubscribe => sink.punsubscribe(&r.names).await,
                    };
                    match res {
                        Ok(()) => {
                            self.remember(r.kind, r.names);
                            let _ = r.done.send(Ok(()));
                        }
                        Err(e) => {
                            let text = describe(&self.label, &e);
                            let _ = r.done.send(Err(text.clone()));
                            if super::conn::is_fatal(&e) {
                                return Ended::Lost(text);
                            }
                        }
                    }
                }
                msg = stream.next() => {
                    let Some(m) = msg else { return Ended::Lost("connection closed by server".into()) };
                    let pattern = if m.from_pattern() { m.get_pattern::<Vec<u8>>().ok() } else { None };
                    let ev = Event::Message {
                        channel: m.get_channel::<Vec<u8>>().unwrap_or_default(),
                        payload: m.get_payload_bytes().to_vec(),
                        pattern,
                    };
                    if self.events.send(ev).is_err() {
                        return Ended::Closed;
                    }
                }
            }
        }
    }

    fn remember(&mut self, kind: Kind, names: Vec<Vec<u8>>) {
        match kind {
            Kind::Subscribe => self.channels.extend(names),
            Kind::PSubscribe => self.patterns.extend(names),
            // No names means "all", as in Redis.
            Kind::Unsubscribe if names.is_empty() => self.channels.clear(),
            Kind::PUnsubscribe if names.is_empty() => self.patterns.clear(),
            Kind::Unsubscribe => names.iter().for_each(|n| {
                self.channels.remove(n);
            }),
            Kind::PUnsubscribe => names.iter().for_each(|n| {
                self.patterns.remove(n);
            }),
        }
    }
}

/// Wait for the next event and pack it as `true, payload, channel[, pattern]` or
/// `false, message`. While `down` says the link is lost, an empty queue fails at once.
pub async fn next_packet(
    events: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Event>>>,
    down: Option<Arc<Mutex<Option<String>>>>,
    label: String,
) -> Vec<u8> {
    use crate::store::{err_packet, ok_writer};
    let mut rx = events.lock().await;
    let ev = match rx.try_recv() {
        Ok(ev) => Some(ev),
        Err(mpsc::error::TryRecvError::Disconnected) => None,
        Err(mpsc::error::TryRecvError::Empty) => {
            let why = down.as_ref().and_then(|d| d.lock().clone());
            if let Some(why) = why {
                return err_packet(&format!(
                    "{label} watch is unreachable ({why}); reconnecting"
                ));
            }
            rx.recv().await
        }
    };
    match ev {
        Some(Event::Message {
            channel,
            payload,
            pattern,
        }) => {
            let mut w = ok_writer();
            w.string(&payload);
            w.string(&channel);
            if let Some(p) = pattern {
                w.string(&p);
            }
            w.finish()
        }
        Some(Event::Lost(why)) => err_packet(&why),
        None => err_packet(&format!("{label} watch is closed")),
    }
}
