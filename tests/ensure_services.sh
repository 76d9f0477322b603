#!/usr/bin/env bash
# Make Redis (127.0.0.1:6379), a Redis Cluster (127.0.0.1:7000-7005), MariaDB (:3306) and
# PostgreSQL (:5432) answer for the store tests (and install promtool for the metrics test): a
# server that isn't answering is started, and installed with apt-get first if it is missing.
# Also creates the `test` databases and lets MariaDB's root and PostgreSQL's postgres log in
# over 127.0.0.1 without a password (local test servers only). Safe to run repeatedly.
set -euo pipefail

SUDO=""
if [ "$(id -u)" != 0 ]; then
    SUDO="sudo"
fi

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_up() {
    for _ in $(seq 1 120); do
        up "$2" && return 0
        sleep 0.5
    done
    echo "ensure_services: $1 did not come up on 127.0.0.1:$2" >&2
    exit 1
}

updated=""
install() {
    if [ -z "$updated" ]; then
        $SUDO apt-get update -qq
        updated=1
    fi
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# --- Redis -------------------------------------------------------------------------------------
# redis-server is also needed on its own: the outage test runs a private one on a free port.
command -v redis-server >/dev/null || install redis-server
if ! up 6379; then
    redis-server --daemonize yes --port 6379 --bind 127.0.0.1 --save "" --appendonly no
    wait_up Redis 6379
fi

# --- Redis Cluster (127.0.0.1:7000-7005) ------------------------------------------------------
# skynet's test/testrediscluster.lua and our cluster suite talk to a 6-node cluster: 3 masters
# and 3 replicas, no persistence, node files under /tmp. A healthy cluster is left alone; nodes
# that are not running are started again (they rejoin through their nodes.conf); a cluster that
# still isn't healthy then (fresh nodes, a mix of old and new) is rebuilt from scratch.
CLUSTER_PORTS="7000 7001 7002 7003 7004 7005"
CLUSTER_DIR=/tmp/cirrus-redis-cluster

cluster_ok() {
    local info
    info=$(redis-cli -p 7000 cluster info 2>/dev/null) || return 1
    grep -q '^cluster_state:ok' <<<"$info" &&
        grep -q '^cluster_known_nodes:6' <<<"$info" &&
        grep -q '^cluster_size:3' <<<"$info" || return 1
    # every node answers and agrees
    for p in $CLUSTER_PORTS; do
        redis-cli -p "$p" cluster info 2>/dev/null | grep -q '^cluster_state:ok' || return 1
    done
}

cluster_start_node() {
    mkdir -p "$CLUSTER_DIR/$1"
    redis-server --daemonize yes --port "$1" --bind 127.0.0.1 --save "" --appendonly no \
        --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 5000 \
        --dir "$CLUSTER_DIR/$1" --logfile "$CLUSTER_DIR/$1/redis.log"
}

cluster_wait_ok() {
    for _ in $(seq 1 "$1"); do
        cluster_ok && return 0
        sleep 0.5
    done
    return 1
}

if ! cluster_ok; then
    restarted=""
    for p in $CLUSTER_PORTS; do
        if ! up "$p"; then
            cluster_start_node "$p"
            restarted=1
        fi
    done
    for p in $CLUSTER_PORTS; do wait_up "Redis Cluster node" "$p"; done
    # nodes that came back with their nodes.conf need a moment to find each other again
    if [ -z "$restarted" ] || ! cluster_wait_ok 20; then
        for p in $CLUSTER_PORTS; do
            redis-cli -p "$p" shutdown nosave >/dev/null 2>&1 || true
        done
        for p in $CLUSTER_PORTS; do
            for _ in $(seq 1 50); do up "$p" || break; sleep 0.1; done
        done
        rm -rf "$CLUSTER_DIR"
        for p in $CLUSTER_PORTS; do cluster_start_node "$p"; done
        for p in $CLUSTER_PORTS; do wait_up "Redis Cluster node" "$p"; done
        # shellcheck disable=SC2046
        redis-cli --cluster create $(printf '127.0.0.1:%s ' $CLUSTER_PORTS) \
            --cluster-replicas 1 --cluster-yes >"$CLUSTER_DIR/create.log" 2>&1 ||
            { cat "$CLUSTER_DIR/create.log" >&2; exit 1; }
        cluster_wait_ok 60 || {
            echo "ensure_services: the Redis Cluster on 7000-7005 did not become healthy" >&2
            exit 1
        }
    fi
fi

# --- MariaDB -----------------------------------------------------------------------------------
if ! up 3306; then
    [ -x /usr/sbin/mariadbd ] || install mariadb-server mariadb-client
    if [ ! -d /var/lib/mysql/mysql ]; then
        $SUDO mysql_install_db --user=mysql --datadir=/var/lib/mysql >/dev/null
    fi
    $SUDO mkdir -p /run/mysqld
    $SUDO chown mysql:mysql /run/mysqld
    $SUDO start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
    wait_up MariaDB 3306
fi
command -v mysql >/dev/null || install mariadb-client
if ! mysql -uroot -h127.0.0.1 -e "SELECT 1" >/dev/null 2>&1; then
    # A fresh Debian install lets root in through the unix socket only.
    $SUDO mysql -uroot -e "
        ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('');
        CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED VIA mysql_native_password USING PASSWORD('');
        GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
        FLUSH PRIVILEGES;"
fi
mysql -uroot -h127.0.0.1 -e "CREATE DATABASE IF NOT EXISTS test"

# --- PostgreSQL --------------------------------------------------------------------------------
if ! up 5432; then
    command -v pg_ctlcluster >/dev/null || install postgresql
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start
    wait_up PostgreSQL 5432
fi
command -v psql >/dev/null || install postgresql-client
if ! psql -U postgres -h 127.0.0.1 -d postgres -tAc "SELECT 1" >/dev/null 2>&1; then
    # Trust local TCP logins (the packaged default asks for a password).
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    hba="/etc/postgresql/$version/main/pg_hba.conf"
    $SUDO sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main reload
    sleep 1
fi
if [ "$(psql -U postgres -h 127.0.0.1 -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'test'")" != 1 ]; then
    psql -U postgres -h 127.0.0.1 -d postgres -qc "CREATE DATABASE test"
fi

# --- promtool ----------------------------------------------------------------------------------
# The metrics test validates a /metrics scrape with `promtool check metrics` (Debian: prometheus).
command -v promtool >/dev/null || install prometheus
command -v promtool >/dev/null || { echo "ensure_services: promtool missing after installing prometheus" >&2; exit 1; }

echo "ensure_services: Redis, the Redis Cluster, MariaDB and PostgreSQL are up; promtool is installed"
