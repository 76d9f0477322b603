//! Node discovery through Redis, as in the design notes: each node that opens its cluster port
//! writes `name -> {addr, version, role, ts}` into the `cluster_nodes` hash every second and
//! publishes `add <name>` on `cluster_events`; every node keeps its node table in step with the
//! hash, dropping entries whose heartbeat is older than the TTL. Subscribers reload at once on
//! an event instead of waiting for the next poll.

use super::cluster;
use futures_util::StreamExt;
use redis::AsyncCommands;
use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Clone, Debug)]
pub struct Conf {
    pub url: String,
    pub key: String,
    pub channel: String,
    pub name: String,
    pub role: String,
    pub advertise: String,
    pub ttl: Duration,
    /// Heartbeat this node's own entry (set once it listens).
    pub beat: bool,
    /// Keep the node table in step with the hash.
    pub sync: bool,
}

impl Conf {
    /// Settings from the node config (`cluster_redis`, `cluster_nodes_key`, ...).
    pub fn from_env(url: String, name: &str, advertise: &str) -> Conf {
        let env = |k: &str, d: &str| {
            crate::node::node()
                .env
                .get(k)
                .unwrap_or_else(|| d.to_string())
        };
        Conf {
            url,
            key: env("cluster_nodes_key", "cluster_nodes"),
            channel: env("cluster_events_channel", "cluster_events"),
            name: name.to_string(),
            role: env("cluster_role", "game"),
            advertise: advertise.to_string(),
            ttl: Duration::from_millis(env("cluster_ttl", "3000").parse().unwrap_or(3000)),
            beat: !name.is_empty(),
            sync: name.is_empty(),
        }
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Bring the node table in line with the registry hash.
async fn refresh(
    con: &mut redis::aio::MultiplexedConnection,
    conf: &Conf,
) -> redis::RedisResult<()> {
    let all: HashMap<String, String> = con.hgetall(&conf.key).await?;
    let now = now_ms();
    let mut live = HashMap::new();
    for (name, v) in all {
        let Ok(j) = serde_json::from_str::<serde_json::Value>(&v) else {
            continue;
        };
        let (Some(addr), Some(ts)) = (j["addr"].as_str(), j["ts"].as_u64()) else {
            continue;
        };
        if now.saturating_sub(ts) <= conf.ttl.as_millis() as u64 {
            live.insert(
                name,
                (addr.to_string(), j["role"].as_str().map(str::to_string)),
            );
        }
    }
    let c = cluster();
    for (name, addr) in c.nodes() {
        if !live.contains_key(&name) && name != conf.name {
            tracing::info!(node = %name, %addr, "cluster node left (heartbeat stopped)");
            c.set_node(&name, None);
            c.set_role(&name, None);
        }
    }
    for (name, (addr, role)) in live {
        if c.node_addr(&name).as_deref() != Some(addr.as_str()) {
            tracing::info!(node = %name, %addr, "cluster node joined");
            c.set_node(&name, Some(&addr));
        }
        c.set_role(&name, role.as_deref());
    }
    Ok(())
}

async fn beat(
    con: &mut redis::aio::MultiplexedConnection,
    conf: &Conf,
    version: u64,
) -> redis::RedisResult<()> {
    let entry = serde_json::json!({ "addr": conf.advertise, "version": version, "role": conf.role, "ts": now_ms() });
    let _: () = con.hset(&conf.key, &conf.name, entry.to_string()).await?;
    Ok(())
}

/// Heartbeat and table sync; survives Redis going away and coming back.
pub async fn run(conf: Conf) {
    let client = match redis::Client::open(conf.url.as_str()) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("cluster discovery: bad redis url {}: {e}", conf.url);
            return;
        }
    };
    let version = now_ms();
    let (wake_tx, mut wake_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    // Subscriber: any add/leave event triggers a refresh right away.
    let sub_conf = conf.clone();
    let sub_client = client.clone();
    if conf.sync {
        tokio::spawn(async move {
            loop {
                if let Ok(mut ps) = sub_client.get_async_pubsub().await {
                    if ps.subscribe(&sub_conf.channel).await.is_ok() {
                        let mut stream = ps.on_message();
                        while stream.next().await.is_some() {
                            let _ = wake_tx.send(());
                        }
                    }
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }
    let mut announced = !conf.beat;
    loop {
        match client.get_multiplexed_async_connection().await {
            Ok(mut con) => loop {
                let r = async {
                    if conf.beat {
                        beat(&mut con, &conf, version).await?;
                    }
                    if !announced {
                        let _: () = con.publish(&conf.channel, format!("add {}", conf.name)).await?;
                        announced = true;
                        tracing::info!(node = %conf.name, addr = %conf.advertise, "cluster node announced in redis");
                    }
                    if conf.sync {
                        refresh(&mut con, &conf).await?;
                    }
                    Ok::<(), redis::RedisError>(())
                }
                .await;
                if let Err(e) = r {
                    tracing::warn!("cluster discovery: redis error: {e}");
                    announced = !conf.beat;
                    break;
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = wake_rx.recv() => {}
                }
            },
            Err(e) => tracing::warn!("cluster discovery: cannot reach redis at {}: {e}", conf.url),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Remove this node from the registry and tell the others (on graceful stop).
pub async fn leave(conf: &Conf) {
    if let Ok(client) = redis::Client::open(conf.url.as_str()) {
        if let Ok(mut con) = client.get_multiplexed_async_connection().await {
            let _: redis::RedisResult<()> = con.hdel(&conf.key, &conf.name).await;
            let _: redis::RedisResult<()> = con
                .publish(&conf.channel, format!("leave {}", conf.name))
                .await;
        }
    }
}
