//! `skynet.db.sql`: sqlx pools for MySQL/MariaDB, PostgreSQL and SQLite. Queries bind every
//! parameter, return rows as Lua tables with typed values, and run on the node's tokio runtime.
//! See `lualib/skynet/db/sql.lua` for the Lua API.

pub mod decode;
pub mod lua;
pub mod param;
pub mod pool;

pub use lua::open;

#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    /// The database (or the driver talking to it) refused; `backend` is sqlite/mysql/postgres.
    #[error("{backend}: {message}")]
    Db {
        backend: &'static str,
        message: String,
    },
    #[error("column `{column}` ({ty}): {why}")]
    Decode {
        column: String,
        ty: String,
        why: String,
    },
    #[error("bad SQL url {url}: {why}")]
    Url { url: String, why: String },
    #[error("migrations in {dir}: {why}")]
    Migrate { dir: String, why: String },
}

impl SqlError {
    /// The server's own message (with its error code) when there is one.
    pub fn db(backend: &'static str, e: sqlx::Error) -> SqlError {
        let message = match e.as_database_error() {
            Some(d) => {
                // MySQL's own error number too (skynet.db.mysql reports it as errno)
                let errno = d
                    .try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
                    .map(|m| format!("errno {}, ", m.number()))
                    .unwrap_or_default();
                match d.code() {
                    Some(code) => format!("{} ({errno}code {code})", d.message()),
                    None => d.message().to_string(),
                }
            }
            None => e.to_string(),
        };
        SqlError::Db { backend, message }
    }
}
