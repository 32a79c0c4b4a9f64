//! The PostgreSQL pool. Acquiring is bounded in time so a saturated pool fails fast instead of
//! queueing requests without end; every statement is counted (N+1 guards read the counter).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr, RuntimeErr};
use serde::Serialize;

#[derive(Clone)]
pub struct Db {
    conn: DatabaseConnection,
    statements: Arc<AtomicU64>,
}

#[derive(Debug, Serialize)]
pub struct PoolStats {
    pub max_conns: u32,
    pub total_conns: u32,
    pub idle_conns: usize,
    pub acquired_conns: usize,
}

/// How long a pooled connection lives unless configured: an hour.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);

impl Db {
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, DbErr> {
        Self::open(url, max_connections, false, DEFAULT_LIFETIME).await
    }

    /// A pool that connects on first use, so a server starts (liveness up, `/health` 503) while
    /// the database is still down and serves as soon as it comes up.
    /// Connections are replaced once `lifetime` old (see `DB_CONNECTION_LIFETIME_SECS`).
    pub async fn connect_lazy(url: &str, max_connections: u32, lifetime: Duration) -> Result<Self, DbErr> {
        Self::open(url, max_connections, true, lifetime).await
    }

    async fn open(url: &str, max_connections: u32, lazy: bool, lifetime: Duration) -> Result<Self, DbErr> {
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .max_connections(max_connections)
            .min_connections(0)
            .acquire_timeout(Duration::from_secs(3))
            .connect_timeout(Duration::from_secs(5))
            .idle_timeout(Duration::from_secs(300))
            .max_lifetime(lifetime)
            .test_before_acquire(false)
            .connect_lazy(lazy)
            .sqlx_logging(false);
        let mut conn = Database::connect(options).await?;
        let statements = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&statements);
        conn.set_metric_callback(move |info| {
            counter.fetch_add(1, Ordering::Relaxed);
            crate::telemetry::sql_span(&info.statement.sql, info.elapsed, info.failed);
        });
        Ok(Self { conn, statements })
    }

    pub fn conn(&self) -> &DatabaseConnection {
        &self.conn
    }

    /// Statements executed through this pool since it was opened.
    pub fn statement_count(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    pub fn pool_stats(&self) -> PoolStats {
        let pool = self.conn.get_postgres_connection_pool();
        let idle = pool.num_idle();
        let total = pool.size();
        PoolStats {
            max_conns: pool.options().get_max_connections(),
            total_conns: total,
            idle_conns: idle,
            acquired_conns: (total as usize).saturating_sub(idle),
        }
    }

    /// Round trip to the server, timed, for health checks.
    pub async fn ping(&self) -> Result<Duration, DbErr> {
        let started = Instant::now();
        self.conn.execute_unprepared("SELECT 1").await?;
        Ok(started.elapsed())
    }
}

/// Whether `err` says the database cannot be reached right now (down, restarting, every pooled
/// connection busy past the acquire timeout) rather than that a statement was wrong: the
/// request may be retried.
pub fn is_unavailable(err: &DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    let sqlx = match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => return true,
        DbErr::Query(RuntimeErr::SqlxError(e)) | DbErr::Exec(RuntimeErr::SqlxError(e)) => e,
        _ => return false,
    };
    match sqlx {
        Sqlx::Io(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::WorkerCrashed | Sqlx::Tls(_) => true,
        // Class 08: connection exceptions; 57P01–57P03: the server is shutting down, crashed or
        // starting up.
        Sqlx::Database(db) => db.code().is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    }
}

/// Whether `err` is a statement cancelled by `statement_timeout` (SQLSTATE 57014).
pub fn is_statement_timeout(err: &DbErr) -> bool {
    match err {
        DbErr::Query(RuntimeErr::SqlxError(sea_orm::sqlx::Error::Database(db)))
        | DbErr::Exec(RuntimeErr::SqlxError(sea_orm::sqlx::Error::Database(db))) => {
            db.code().as_deref() == Some("57014")
        }
        _ => false,
    }
}
