//! Sessions in Redis with the seed's 1-hour sliding TTL. An access token is only as good as its
//! session: logout deletes the session, and every subgraph refuses the token on its next request
//! instead of at expiry. When Redis cannot answer, session checks fail closed.
//!
//! Keys carry the tenant: `t:{tenant}:session:{sid}` → user id, and
//! `t:{tenant}:user:{user}:sessions` → the user's session ids (for "log out everywhere").

use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client};
use tokio::sync::Mutex;

use crate::TenantId;
use crate::ids::{SessionId, UserId};

/// The seed's session lifetime; every authenticated request extends it.
pub const SESSION_TTL: Duration = Duration::from_secs(3600);
/// Redis answers in well under a millisecond; waiting longer only makes requests hang.
const REDIS_TIMEOUT: Duration = Duration::from_millis(250);

/// Redis could not be asked; callers refuse the request rather than guess.
#[derive(Debug)]
pub struct SessionStoreUnavailable;

pub struct SessionStore {
    client: Client,
    conn: Mutex<Option<MultiplexedConnection>>,
}

fn session_key(tenant: TenantId, sid: SessionId) -> String {
    format!("t:{tenant}:session:{sid}")
}

fn user_sessions_key(tenant: TenantId, user: UserId) -> String {
    format!("t:{tenant}:user:{user}:sessions")
}

impl SessionStore {
    pub fn new(client: Client) -> Self {
        Self { client, conn: Mutex::new(None) }
    }

    /// A shared multiplexed connection, reopened after a failure.
    async fn conn(&self) -> Result<MultiplexedConnection, SessionStoreUnavailable> {
        let mut slot = self.conn.lock().await;
        if let Some(conn) = slot.as_ref() {
            return Ok(conn.clone());
        }
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(REDIS_TIMEOUT)
            .set_response_timeout(REDIS_TIMEOUT);
        let conn =
            self.client.get_multiplexed_async_connection_with_config(&config).await.map_err(|err| {
                tracing::warn!(error = %err, "session store unreachable");
                SessionStoreUnavailable
            })?;
        *slot = Some(conn.clone());
        Ok(conn)
    }

    async fn run<T: redis::FromRedisValue>(
        &self,
        pipeline: &redis::Pipeline,
    ) -> Result<T, SessionStoreUnavailable> {
        let mut conn = self.conn().await?;
        match tokio::time::timeout(REDIS_TIMEOUT, pipeline.query_async::<T>(&mut conn)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) => {
                tracing::warn!(error = %err, "session store command failed");
                *self.conn.lock().await = None;
                Err(SessionStoreUnavailable)
            }
            Err(_) => {
                tracing::warn!("session store timed out");
                *self.conn.lock().await = None;
                Err(SessionStoreUnavailable)
            }
        }
    }

    /// Starts a session for `user` in `tenant`.
    pub async fn open(
        &self,
        tenant: TenantId,
        user: UserId,
        sid: SessionId,
    ) -> Result<(), SessionStoreUnavailable> {
        let ttl = SESSION_TTL.as_secs();
        let user_set = user_sessions_key(tenant, user);
        let mut pipeline = redis::pipe();
        pipeline
            .atomic()
            .set_ex(session_key(tenant, sid), user.to_string(), ttl)
            .ignore()
            .sadd(&user_set, sid.to_string())
            .ignore()
            .expire(&user_set, ttl as i64)
            .ignore();
        self.run::<()>(&pipeline).await
    }

    /// True when the session exists and belongs to `user`; extends it by [`SESSION_TTL`].
    pub async fn touch(
        &self,
        tenant: TenantId,
        user: UserId,
        sid: SessionId,
    ) -> Result<bool, SessionStoreUnavailable> {
        let mut pipeline = redis::pipe();
        pipeline.cmd("GETEX").arg(session_key(tenant, sid)).arg("EX").arg(SESSION_TTL.as_secs());
        let (owner,): (Option<String>,) = self.run(&pipeline).await?;
        Ok(owner.is_some_and(|owner| owner == user.to_string()))
    }

    /// Ends one session.
    pub async fn revoke(
        &self,
        tenant: TenantId,
        user: UserId,
        sid: SessionId,
    ) -> Result<(), SessionStoreUnavailable> {
        let mut pipeline = redis::pipe();
        pipeline
            .atomic()
            .del(session_key(tenant, sid))
            .ignore()
            .srem(user_sessions_key(tenant, user), sid.to_string())
            .ignore();
        self.run::<()>(&pipeline).await
    }

    /// Ends every session of `user` in `tenant`.
    pub async fn revoke_all(&self, tenant: TenantId, user: UserId) -> Result<(), SessionStoreUnavailable> {
        let user_set = user_sessions_key(tenant, user);
        let mut read = redis::pipe();
        read.smembers(&user_set);
        let (sids,): (Vec<String>,) = self.run(&read).await?;
        let mut pipeline = redis::pipe();
        pipeline.atomic();
        for sid in sids {
            pipeline.del(format!("t:{tenant}:session:{sid}")).ignore();
        }
        pipeline.del(&user_set).ignore();
        self.run::<()>(&pipeline).await
    }
}
