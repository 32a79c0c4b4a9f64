//! Sessions in Redis with the seed's 1-hour sliding TTL. An access token is only as good as its
//! session: logout deletes the session, and every subgraph refuses the token on its next request
//! instead of at expiry. When Redis cannot answer, session checks fail closed.
//!
//! Keys carry the tenant: `t:{tenant}:session:{sid}` → user id, and
//! `t:{tenant}:user:{user}:sessions` → the user's session ids (for "log out everywhere").

use std::time::Duration;

use crate::TenantId;
use crate::ids::{SessionId, UserId};

/// The seed's session lifetime; every authenticated request extends it.
pub const SESSION_TTL: Duration = Duration::from_secs(3600);

use crate::kv::Kv;
pub use crate::kv::RedisUnavailable;

pub struct SessionStore {
    kv: Kv,
}

fn session_key(tenant: TenantId, sid: SessionId) -> String {
    format!("t:{tenant}:session:{sid}")
}

fn user_sessions_key(tenant: TenantId, user: UserId) -> String {
    format!("t:{tenant}:user:{user}:sessions")
}

impl SessionStore {
    pub fn new(kv: Kv) -> Self {
        Self { kv }
    }

    /// Starts a session for `user` in `tenant`.
    pub async fn open(&self, tenant: TenantId, user: UserId, sid: SessionId) -> Result<(), RedisUnavailable> {
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
        self.kv.run::<()>(&pipeline).await
    }

    /// True when the session exists and belongs to `user`; extends it by [`SESSION_TTL`].
    pub async fn touch(
        &self,
        tenant: TenantId,
        user: UserId,
        sid: SessionId,
    ) -> Result<bool, RedisUnavailable> {
        let mut pipeline = redis::pipe();
        pipeline.cmd("GETEX").arg(session_key(tenant, sid)).arg("EX").arg(SESSION_TTL.as_secs());
        let (owner,): (Option<String>,) = self.kv.run(&pipeline).await?;
        Ok(owner.is_some_and(|owner| owner == user.to_string()))
    }

    /// Ends one session.
    pub async fn revoke(
        &self,
        tenant: TenantId,
        user: UserId,
        sid: SessionId,
    ) -> Result<(), RedisUnavailable> {
        let mut pipeline = redis::pipe();
        pipeline
            .atomic()
            .del(session_key(tenant, sid))
            .ignore()
            .srem(user_sessions_key(tenant, user), sid.to_string())
            .ignore();
        self.kv.run::<()>(&pipeline).await
    }

    /// Ends every session of `user` in `tenant`.
    pub async fn revoke_all(&self, tenant: TenantId, user: UserId) -> Result<(), RedisUnavailable> {
        let user_set = user_sessions_key(tenant, user);
        let mut read = redis::pipe();
        read.smembers(&user_set);
        let (sids,): (Vec<String>,) = self.kv.run(&read).await?;
        let mut pipeline = redis::pipe();
        pipeline.atomic();
        for sid in sids {
            pipeline.del(format!("t:{tenant}:session:{sid}")).ignore();
        }
        pipeline.del(&user_set).ignore();
        self.kv.run::<()>(&pipeline).await
    }
}
