//! Stores: the in-process store, Redis (client, pub/sub, transactions, outage and reconnect),
//! SQL on SQLite, MariaDB and PostgreSQL, and the db service with its migrations. Redis,
//! MariaDB and PostgreSQL must be answering on their standard local ports (tests/run.sh starts
//! them through tests/ensure_services.sh); a missing server fails these tests, never skips them.

mod common;

use common::{assert_lua_suite, assert_lua_suite_env, free_port};
use std::net::TcpStream;

fn require_server(name: &str, addr: &str) {
    if TcpStream::connect(addr).is_err() {
        panic!(
            "{name} is not answering on {addr}: run tests/ensure_services.sh (tests/run.sh does)"
        );
    }
}

#[test]
fn memory_store() {
    assert_lua_suite("test_store_memory,test_memory", 2);
}

#[test]
fn redis_store() {
    require_server("Redis", "127.0.0.1:6379");
    assert_lua_suite("test_store_redis", 2);
}

#[test]
fn redis_client() {
    require_server("Redis", "127.0.0.1:6379");
    assert_lua_suite("test_redis", 2);
}

/// skynet.db.redis.cluster on the local Redis Cluster (tests/ensure_services.sh starts it).
#[test]
fn redis_cluster_client() {
    require_server("the Redis Cluster", "127.0.0.1:7000");
    assert_lua_suite("test_redis_cluster", 2);
}

/// Kills a private redis-server under live connections and restarts it.
#[test]
fn redis_outage_and_reconnect() {
    let port = free_port();
    assert_lua_suite_env(
        "test_redis_down",
        2,
        &[("CIRRUS_TEST_REDIS_PRIVATE_PORT", port.to_string())],
    );
}

#[test]
fn sql_sqlite() {
    assert_lua_suite("test_sql_sqlite", 2);
}

#[test]
fn sql_mariadb() {
    require_server("MariaDB", "127.0.0.1:3306");
    assert_lua_suite("test_sql_mysql", 2);
}

#[test]
fn sql_postgres() {
    require_server("PostgreSQL", "127.0.0.1:5432");
    assert_lua_suite("test_sql_postgres", 2);
}

#[test]
fn db_service_sqlite() {
    assert_lua_suite("test_db_sqlite", 2);
}

#[test]
fn db_service_mariadb() {
    require_server("MariaDB", "127.0.0.1:3306");
    assert_lua_suite("test_db_mysql", 2);
}

#[test]
fn db_service_postgres() {
    require_server("PostgreSQL", "127.0.0.1:5432");
    assert_lua_suite("test_db_postgres", 2);
}

#[test]
fn mysql_with_skynets_api() {
    assert_lua_suite("test_db_mysql_api", 2);
}
