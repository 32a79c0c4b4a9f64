//! Contact lookups by id, kept in Redis for 15 minutes (`t:{tenant}:contact:{id}`) and dropped
//! after every committed write, merge and delete. Redis is an accelerator only: when it cannot
//! be asked, lookups go to Postgres.
//!
//! A lookup that read Postgres just before a write committed could put the old row back after
//! the write dropped it; so a write drops its keys once at commit and once more a moment later.
//! A drop that fails (Redis away) is remembered, and this process reads no cache until it has
//! gone through.

use std::collections::{BTreeSet, HashMap};
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use crm_entities::ids::ContactId;
use crm_entities::tenant::contact;
use crm_platform::TenantId;
use crm_platform::kv::Kv;

/// The seed's contact lookup TTL.
pub const TTL: Duration = Duration::from_secs(15 * 60);
/// Longer than a lookup's read-then-fill takes.
const SECOND_DROP_AFTER: Duration = Duration::from_millis(500);

static UNDROPPED: LazyLock<Mutex<BTreeSet<String>>> = LazyLock::new(Mutex::default);

pub fn key(tenant: TenantId, id: ContactId) -> String {
    format!("t:{tenant}:contact:{}", id.0)
}

/// The cached contacts among `ids`; nothing when the cache cannot be trusted or reached.
pub async fn get_many(kv: &Kv, tenant: TenantId, ids: &[ContactId]) -> HashMap<ContactId, contact::Model> {
    if ids.is_empty() || !drop_undropped(kv).await {
        return HashMap::new();
    }
    let mut pipeline = redis::pipe();
    pipeline.cmd("MGET").arg(ids.iter().map(|id| key(tenant, *id)).collect::<Vec<_>>());
    let Ok((values,)) = kv.run::<(Vec<Option<String>>,)>(&pipeline).await else {
        return HashMap::new();
    };
    ids.iter()
        .zip(values)
        .filter_map(|(id, value)| {
            let model: contact::Model = serde_json::from_str(&value?).ok()?;
            (model.id == id.0).then_some((*id, model))
        })
        .collect()
}

pub async fn put_many(kv: &Kv, tenant: TenantId, rows: &[contact::Model]) {
    if rows.is_empty() || !undropped_is_empty() {
        return;
    }
    let mut pipeline = redis::pipe();
    for row in rows {
        let Ok(json) = serde_json::to_string(row) else { continue };
        pipeline
            .cmd("SET")
            .arg(key(tenant, ContactId(row.id)))
            .arg(json)
            .arg("EX")
            .arg(TTL.as_secs())
            .ignore();
    }
    let _ = kv.run::<()>(&pipeline).await;
}

/// Drops `ids` now and again shortly; call after the write committed.
pub async fn forget(kv: &std::sync::Arc<Kv>, tenant: TenantId, ids: &[ContactId]) {
    let keys: Vec<String> = ids.iter().map(|id| key(tenant, *id)).collect();
    if keys.is_empty() {
        return;
    }
    drop_keys(kv, keys.clone()).await;
    let kv = std::sync::Arc::clone(kv);
    tokio::spawn(async move {
        tokio::time::sleep(SECOND_DROP_AFTER).await;
        drop_keys(&kv, keys).await;
    });
}

async fn drop_keys(kv: &Kv, keys: Vec<String>) {
    let mut pipeline = redis::pipe();
    pipeline.cmd("DEL").arg(&keys).ignore();
    if kv.run::<()>(&pipeline).await.is_err() {
        lock().extend(keys);
    }
}

/// Retries remembered drops; true when none is left.
async fn drop_undropped(kv: &Kv) -> bool {
    let keys: Vec<String> = lock().iter().cloned().collect();
    if keys.is_empty() {
        return true;
    }
    let mut pipeline = redis::pipe();
    pipeline.cmd("DEL").arg(&keys).ignore();
    if kv.run::<()>(&pipeline).await.is_err() {
        return false;
    }
    let mut pending = lock();
    for key in &keys {
        pending.remove(key);
    }
    pending.is_empty()
}

fn undropped_is_empty() -> bool {
    lock().is_empty()
}

fn lock() -> std::sync::MutexGuard<'static, BTreeSet<String>> {
    UNDROPPED.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Redis on a port nobody listens on: lookups find nothing (so they read Postgres), and a
    /// drop that could not happen keeps the cache out of use until it does.
    #[tokio::test]
    async fn an_unreachable_redis_is_bypassed_and_missed_drops_are_remembered() {
        let kv = std::sync::Arc::new(Kv::new(redis::Client::open("redis://127.0.0.1:9").expect("client")));
        let tenant = TenantId(uuid::Uuid::now_v7());
        let id = ContactId::new();
        assert!(get_many(&kv, tenant, &[id]).await.is_empty());
        forget(&kv, tenant, &[id]).await;
        assert!(lock().contains(&key(tenant, id)), "the failed drop is remembered");
        assert!(!undropped_is_empty(), "so nothing is cached or read from the cache meanwhile");
        lock().clear();
    }
}
