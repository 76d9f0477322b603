//! Pools and transactions for the three backends, and the query/execute code each one runs.

use super::decode;
use super::param::{dollar_placeholders, Param};
use super::SqlError;
use crate::store::{op_metrics, OP_BEGIN, OP_COMMIT, OP_EXECUTE, OP_QUERY};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::mysql::{MySql, MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use sqlx::postgres::types::Oid;
use sqlx::postgres::{
    PgArgumentBuffer, PgConnectOptions, PgPool, PgPoolOptions, PgTypeInfo, Postgres,
};
use sqlx::query::Query;
use sqlx::sqlite::{
    Sqlite, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
};
use sqlx::{Database, Encode, Transaction, Type};
use std::str::FromStr;
use std::time::{Duration, Instant};

/// `sql.connect` options.
#[derive(Clone, Debug)]
pub struct Options {
    /// Most connections the pool opens.
    pub max: u32,
    /// How long a call waits for a free (or new) connection before failing.
    pub acquire_timeout: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    MySql,
    Postgres,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Sqlite => "sqlite",
            Kind::MySql => "mysql",
            Kind::Postgres => "postgres",
        }
    }

    /// Index of this backend in [`crate::store::BACKENDS`].
    fn metric_index(self) -> usize {
        match self {
            Kind::Sqlite => 2,
            Kind::MySql => 3,
            Kind::Postgres => 4,
        }
    }
}

#[derive(Clone, Debug)]
pub enum Pool {
    Sqlite(SqlitePool),
    MySql(MySqlPool),
    Postgres(PgPool),
}

pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    MySql(Transaction<'static, MySql>),
    Postgres(Transaction<'static, Postgres>),
}

/// The URL without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => match url[s + 3..at].find(':') {
            Some(c) => format!("{}:***{}", &url[..s + 3 + c], &url[at..]),
            None => url.to_string(),
        },
        _ => url.to_string(),
    }
}

/// A NULL PostgreSQL types from context (oid 0), so it fits a column of any type.
struct PgNull;

impl Type<Postgres> for PgNull {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(Oid(0))
    }
}

impl Encode<'_, Postgres> for PgNull {
    fn encode_by_ref(&self, _: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        Ok(IsNull::Yes)
    }
}

type Q<'q, DB> = Query<'q, DB, <DB as Database>::Arguments<'q>>;

fn bind<'q, DB: Database>(
    mut q: Q<'q, DB>,
    params: &'q [Param],
    null: fn(Q<'q, DB>) -> Q<'q, DB>,
) -> Q<'q, DB>
where
    bool: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
    f64: Encode<'q, DB> + Type<DB>,
    &'q str: Encode<'q, DB> + Type<DB>,
    &'q [u8]: Encode<'q, DB> + Type<DB>,
{
    for p in params {
        q = match p {
            Param::Null => null(q),
            Param::Bool(b) => q.bind(*b),
            Param::Int(i) => q.bind(*i),
            Param::Float(f) => q.bind(*f),
            Param::Text(s) => q.bind(s.as_str()),
            Param::Bytes(b) => q.bind(b.as_slice()),
        };
    }
    q
}

fn null_sqlite(q: Q<'_, Sqlite>) -> Q<'_, Sqlite> {
    q.bind(None::<i64>)
}

fn null_mysql(q: Q<'_, MySql>) -> Q<'_, MySql> {
    q.bind(None::<&str>)
}

fn null_postgres(q: Q<'_, Postgres>) -> Q<'_, Postgres> {
    q.bind(PgNull)
}

/// PostgreSQL fixes parameter types when a statement is first prepared and sqlx caches it by
/// text, so the same SQL bound later with other Lua types would be misread. Tagging the text
/// with the parameter types gives each combination its own prepared statement.
fn postgres_sql(sql: &str, params: &[Param]) -> String {
    let sql = dollar_placeholders(sql);
    if params.is_empty() {
        return sql;
    }
    let sig: String = params
        .iter()
        .map(|p| match p {
            Param::Null => 'N',
            Param::Bool(_) => 'B',
            Param::Int(_) => 'I',
            Param::Float(_) => 'F',
            Param::Text(_) => 'T',
            Param::Bytes(_) => 'X',
        })
        .collect();
    format!("/* cirrus:{sig} */ {sql}")
}

/// `query` and `execute` for one backend, over any executor (pool or transaction).
macro_rules! driver {
    ($query:ident, $execute:ident, $name:literal, $db:ty, $null:path, $cell:path, $last_id:expr) => {
        async fn $query<'c, E: sqlx::Executor<'c, Database = $db>>(
            ex: E,
            sql: &str,
            params: &[Param],
        ) -> Result<Vec<u8>, SqlError> {
            let rows = bind(sqlx::query(sql), params, $null)
                .fetch_all(ex)
                .await
                .map_err(|e| SqlError::db($name, e))?;
            decode::rows_packet(&rows, $cell)
        }

        async fn $execute<'c, E: sqlx::Executor<'c, Database = $db>>(
            ex: E,
            sql: &str,
            params: &[Param],
        ) -> Result<Vec<u8>, SqlError> {
            let r = bind(sqlx::query(sql), params, $null)
                .execute(ex)
                .await
                .map_err(|e| SqlError::db($name, e))?;
            Ok(decode::exec_packet(r.rows_affected(), $last_id(&r)))
        }
    };
}

driver!(
    sqlite_query,
    sqlite_execute,
    "sqlite",
    Sqlite,
    null_sqlite,
    decode::sqlite_cell,
    |r: &sqlx::sqlite::SqliteQueryResult| Some(r.last_insert_rowid())
);
driver!(
    mysql_query,
    mysql_execute,
    "mysql",
    MySql,
    null_mysql,
    decode::mysql_cell,
    |r: &sqlx::mysql::MySqlQueryResult| i64::try_from(r.last_insert_id()).ok()
);
driver!(
    postgres_query,
    postgres_execute,
    "postgres",
    Postgres,
    null_postgres,
    decode::postgres_cell,
    |_: &sqlx::postgres::PgQueryResult| None
);

impl Pool {
    /// Build a pool without connecting; the first call (or [`Pool::ping`]) opens a connection.
    pub fn lazy(url: &str, o: &Options) -> Result<Pool, SqlError> {
        let bad = |e: sqlx::Error| SqlError::Url {
            url: redact(url),
            why: e.to_string(),
        };
        let scheme = url.split(':').next().unwrap_or_default();
        Ok(match scheme {
            "sqlite" => {
                let opts = SqliteConnectOptions::from_str(url)
                    .map_err(bad)?
                    .create_if_missing(true);
                let memory = url.contains(":memory:") || url.contains("mode=memory");
                let pool = if memory {
                    // Each connection to :memory: is its own database: keep exactly one, forever.
                    SqlitePoolOptions::new()
                        .max_connections(1)
                        .min_connections(1)
                        .idle_timeout(None)
                        .max_lifetime(None)
                } else {
                    if let Some(dir) = opts
                        .get_filename()
                        .parent()
                        .filter(|d| !d.as_os_str().is_empty())
                    {
                        std::fs::create_dir_all(dir).map_err(|e| SqlError::Url {
                            url: redact(url),
                            why: format!("creating {}: {e}", dir.display()),
                        })?;
                    }
                    SqlitePoolOptions::new().max_connections(o.max)
                };
                // WAL lets readers run beside the single writer; busy_timeout waits out locks.
                let opts = if memory {
                    opts
                } else {
                    opts.journal_mode(SqliteJournalMode::Wal)
                        .busy_timeout(Duration::from_secs(5))
                };
                Pool::Sqlite(
                    pool.acquire_timeout(o.acquire_timeout)
                        .connect_lazy_with(opts),
                )
            }
            "mysql" | "mariadb" => {
                let url = url.replacen("mariadb:", "mysql:", 1);
                let opts = MySqlConnectOptions::from_str(&url).map_err(bad)?;
                Pool::MySql(
                    MySqlPoolOptions::new()
                        .max_connections(o.max)
                        .acquire_timeout(o.acquire_timeout)
                        .connect_lazy_with(opts),
                )
            }
            "postgres" | "postgresql" => {
                let opts = PgConnectOptions::from_str(url).map_err(bad)?;
                Pool::Postgres(
                    PgPoolOptions::new()
                        .max_connections(o.max)
                        .acquire_timeout(o.acquire_timeout)
                        .connect_lazy_with(opts),
                )
            }
            _ => {
                return Err(SqlError::Url {
                    url: redact(url),
                    why: "use sqlite:, mysql:, mariadb: or postgres:".into(),
                })
            }
        })
    }

    pub fn kind(&self) -> Kind {
        match self {
            Pool::Sqlite(_) => Kind::Sqlite,
            Pool::MySql(_) => Kind::MySql,
            Pool::Postgres(_) => Kind::Postgres,
        }
    }

    /// Open (or reuse) one connection, so a bad URL or an unreachable server shows at connect.
    pub async fn ping(&self) -> Result<(), SqlError> {
        let r = match self {
            Pool::Sqlite(p) => p.acquire().await.map(drop),
            Pool::MySql(p) => p.acquire().await.map(drop),
            Pool::Postgres(p) => p.acquire().await.map(drop),
        };
        r.map_err(|e| SqlError::db(self.kind().name(), e))
    }

    pub async fn query(&self, sql: &str, params: &[Param]) -> Result<Vec<u8>, SqlError> {
        let t = Instant::now();
        let r = match self {
            Pool::Sqlite(p) => sqlite_query(p, sql, params).await,
            Pool::MySql(p) => mysql_query(p, sql, params).await,
            Pool::Postgres(p) => postgres_query(p, &postgres_sql(sql, params), params).await,
        };
        op_metrics(self.kind().metric_index(), OP_QUERY).done(t, r.is_ok());
        r
    }

    pub async fn execute(&self, sql: &str, params: &[Param]) -> Result<Vec<u8>, SqlError> {
        let t = Instant::now();
        let r = match self {
            Pool::Sqlite(p) => sqlite_execute(p, sql, params).await,
            Pool::MySql(p) => mysql_execute(p, sql, params).await,
            Pool::Postgres(p) => postgres_execute(p, &postgres_sql(sql, params), params).await,
        };
        op_metrics(self.kind().metric_index(), OP_EXECUTE).done(t, r.is_ok());
        r
    }

    pub async fn begin(&self) -> Result<Tx, SqlError> {
        let t = Instant::now();
        let e = |e| SqlError::db(self.kind().name(), e);
        let r = match self {
            Pool::Sqlite(p) => p.begin().await.map(Tx::Sqlite),
            Pool::MySql(p) => p.begin().await.map(Tx::MySql),
            Pool::Postgres(p) => p.begin().await.map(Tx::Postgres),
        };
        op_metrics(self.kind().metric_index(), OP_BEGIN).done(t, r.is_ok());
        r.map_err(e)
    }

    /// Apply the migrations in `dir` that are not applied yet; returns how many the folder has.
    pub async fn migrate(&self, dir: &str) -> Result<usize, SqlError> {
        let m = sqlx::migrate::Migrator::new(std::path::Path::new(dir))
            .await
            .map_err(|e| SqlError::Migrate {
                dir: dir.to_string(),
                why: e.to_string(),
            })?;
        let r = match self {
            Pool::Sqlite(p) => m.run(p).await,
            Pool::MySql(p) => m.run(p).await,
            Pool::Postgres(p) => m.run(p).await,
        };
        r.map_err(|e| SqlError::Migrate {
            dir: dir.to_string(),
            why: e.to_string(),
        })?;
        Ok(m.iter().count())
    }

    pub async fn close(&self) {
        match self {
            Pool::Sqlite(p) => p.close().await,
            Pool::MySql(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }
}

impl Tx {
    fn kind(&self) -> Kind {
        match self {
            Tx::Sqlite(_) => Kind::Sqlite,
            Tx::MySql(_) => Kind::MySql,
            Tx::Postgres(_) => Kind::Postgres,
        }
    }

    pub async fn query(&mut self, sql: &str, params: &[Param]) -> Result<Vec<u8>, SqlError> {
        let (t, k) = (Instant::now(), self.kind());
        let r = match self {
            Tx::Sqlite(t) => sqlite_query(&mut **t, sql, params).await,
            Tx::MySql(t) => mysql_query(&mut **t, sql, params).await,
            Tx::Postgres(t) => postgres_query(&mut **t, &postgres_sql(sql, params), params).await,
        };
        op_metrics(k.metric_index(), OP_QUERY).done(t, r.is_ok());
        r
    }

    pub async fn execute(&mut self, sql: &str, params: &[Param]) -> Result<Vec<u8>, SqlError> {
        let (t, k) = (Instant::now(), self.kind());
        let r = match self {
            Tx::Sqlite(t) => sqlite_execute(&mut **t, sql, params).await,
            Tx::MySql(t) => mysql_execute(&mut **t, sql, params).await,
            Tx::Postgres(t) => postgres_execute(&mut **t, &postgres_sql(sql, params), params).await,
        };
        op_metrics(k.metric_index(), OP_EXECUTE).done(t, r.is_ok());
        r
    }

    pub async fn finish(self, commit: bool) -> Result<(), SqlError> {
        let started = Instant::now();
        let index = self.kind().metric_index();
        let kind = self.kind().name();
        let r = match (self, commit) {
            (Tx::Sqlite(t), true) => t.commit().await,
            (Tx::Sqlite(t), false) => t.rollback().await,
            (Tx::MySql(t), true) => t.commit().await,
            (Tx::MySql(t), false) => t.rollback().await,
            (Tx::Postgres(t), true) => t.commit().await,
            (Tx::Postgres(t), false) => t.rollback().await,
        };
        // rollbacks count as commits: both end a transaction
        op_metrics(index, OP_COMMIT).done(started, r.is_ok());
        r.map_err(|e| SqlError::db(kind, e))
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn hides_passwords() {
        assert_eq!(
            redact("mysql://root:secret@127.0.0.1:3306/test"),
            "mysql://root:***@127.0.0.1:3306/test"
        );
        assert_eq!(
            redact("postgres://postgres@127.0.0.1/test"),
            "postgres://postgres@127.0.0.1/test"
        );
        assert_eq!(redact("sqlite://data/cirrus.db"), "sqlite://data/cirrus.db");
    }
}
