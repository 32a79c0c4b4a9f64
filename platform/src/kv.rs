//! One shared Redis connection with short timeouts, reopened after a failure. Callers decide
//! what an unreachable Redis means for them (sessions and login throttling fail closed).

use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client};
use tokio::sync::Mutex;

/// Redis answers in well under a millisecond; waiting longer only makes requests hang.
const REDIS_TIMEOUT: Duration = Duration::from_millis(250);

/// Redis could not be asked.
#[derive(Debug)]
pub struct RedisUnavailable;

pub struct Kv {
    client: Client,
    conn: Mutex<Option<MultiplexedConnection>>,
}

impl Kv {
    pub fn new(client: Client) -> Self {
        Self { client, conn: Mutex::new(None) }
    }

    async fn conn(&self) -> Result<MultiplexedConnection, RedisUnavailable> {
        let mut slot = self.conn.lock().await;
        if let Some(conn) = slot.as_ref() {
            return Ok(conn.clone());
        }
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(REDIS_TIMEOUT)
            .set_response_timeout(REDIS_TIMEOUT);
        let conn =
            self.client.get_multiplexed_async_connection_with_config(&config).await.map_err(|err| {
                tracing::warn!(error = %err, "redis unreachable");
                RedisUnavailable
            })?;
        *slot = Some(conn.clone());
        Ok(conn)
    }

    /// Runs `pipeline`; any failure or timeout drops the connection so the next call reconnects.
    pub async fn run<T: redis::FromRedisValue>(
        &self,
        pipeline: &redis::Pipeline,
    ) -> Result<T, RedisUnavailable> {
        let mut conn = self.conn().await?;
        let outcome = tokio::time::timeout(REDIS_TIMEOUT, pipeline.query_async::<T>(&mut conn)).await;
        match outcome {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) => {
                tracing::warn!(error = %err, "redis command failed");
                *self.conn.lock().await = None;
                Err(RedisUnavailable)
            }
            Err(_) => {
                tracing::warn!("redis timed out");
                *self.conn.lock().await = None;
                Err(RedisUnavailable)
            }
        }
    }
}
