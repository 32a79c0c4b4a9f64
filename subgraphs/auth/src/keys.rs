//! Signing keys, kept in the global schema so every auth replica signs with the same key and
//! every verifier finds it in the JWKS.
//!
//! Rotation: a new key is published at once but signs only from `activates_at`, after
//! [`PUBLISH_AHEAD`], so routers and subgraphs have fetched it before they meet a token it
//! signed. The key it replaces stays published for [`RETIRED_KEY_RETENTION`] after that, until
//! every token it signed has expired, and is then deleted. Keys are read from the database on
//! each use (logins and JWKS fetches are rare next to queries), so a rotation made by any process
//! applies everywhere at once.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use crm_entities::global::signing_key;
use crm_platform::config::MAX_ACCESS_TTL_SECS;
use crm_platform::{ApiError, ApiResult, Db};
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::EncodingKey;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm, OctetKeyPairParameters,
    OctetKeyPairType, PublicKeyUse,
};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryOrder, Statement, TransactionTrait};

/// A key as stored.
type StoredKey = signing_key::Model;

/// How long a new key is published before it signs: longer than the router's JWKS poll (30 s)
/// and the verifiers' refetch interval.
pub const PUBLISH_AHEAD: Duration = Duration::from_secs(5 * 60);
/// How long a replaced key stays published: the longest token lifetime plus the verifiers'
/// clock leeway, with a margin.
pub const RETIRED_KEY_RETENTION: Duration = Duration::from_secs(MAX_ACCESS_TTL_SECS + 30 + 60);
/// Serializes rotations across auth replicas and `crm rotate-keys`.
const ROTATION_LOCK: i64 = 0x0063_726d_6b65_7973; // "crmkeys"

/// The key that signs now, and every key verifiers must know.
pub struct Keyring {
    signing_kid: String,
    signing_key: EncodingKey,
    jwks: JwkSet,
}

impl Keyring {
    pub fn signing(&self) -> (&str, &EncodingKey) {
        (&self.signing_kid, &self.signing_key)
    }

    pub fn jwks(&self) -> &JwkSet {
        &self.jwks
    }
}

pub struct AuthKeys {
    db: Db,
}

impl AuthKeys {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// The current keyring; the very first call on an empty database creates the first key.
    pub async fn keyring(&self) -> ApiResult<Keyring> {
        let mut stored = load(self.db.conn()).await?;
        if stored.is_empty() {
            // Under the rotation lock: replicas starting together on a new database make one
            // key, not one each (a verifier that fetched the first would refuse tokens of the
            // second until its next fetch).
            let txn = self.db.conn().begin().await?;
            lock_rotation(&txn).await?;
            if load(&txn).await?.is_empty() {
                // Active a minute early: a replica whose clock is a little behind still finds
                // an active key (nothing was signed before it anyway).
                create(&txn, Utc::now() - chrono::Duration::minutes(1)).await?;
            }
            txn.commit().await?;
            stored = load(self.db.conn()).await?;
        }
        keyring(&stored, Utc::now())
    }
}

/// Newest first. Keys past their retention are deleted by [`rotate_if_due`], but are filtered
/// here too so a late prune never keeps one published.
async fn load(conn: &impl ConnectionTrait) -> Result<Vec<StoredKey>, DbErr> {
    signing_key::Entity::find()
        .order_by_desc(signing_key::Column::ActivatesAt)
        .order_by_asc(signing_key::Column::Kid)
        .all(conn)
        .await
}

fn keyring(stored: &[StoredKey], now: DateTime<Utc>) -> ApiResult<Keyring> {
    let signing = stored
        .iter()
        .find(|key| key.activates_at <= now)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no active signing key")))?;
    let published = published(stored, now);
    Ok(Keyring {
        signing_kid: signing.kid.clone(),
        signing_key: EncodingKey::from_ed_der(&signing.private_key),
        jwks: JwkSet { keys: published.into_iter().map(public_jwk).collect() },
    })
}

/// Keys still to be published: those not yet active, the active one, and replaced ones whose
/// successor activated less than [`RETIRED_KEY_RETENTION`] ago.
fn published(stored: &[StoredKey], now: DateTime<Utc>) -> Vec<&StoredKey> {
    let retention = chrono::Duration::from_std(RETIRED_KEY_RETENTION).unwrap_or_default();
    let mut keep = Vec::new();
    let mut successor_active_since: Option<DateTime<Utc>> = None;
    for key in stored {
        let retired_too_long = successor_active_since.is_some_and(|since| since + retention < now);
        if retired_too_long {
            break;
        }
        keep.push(key);
        if key.activates_at <= now {
            successor_active_since = Some(key.activates_at);
        }
    }
    keep
}

async fn create(conn: &impl ConnectionTrait, activates_at: DateTime<Utc>) -> ApiResult<String> {
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let private =
        key.to_pkcs8_der().map_err(|err| ApiError::internal(anyhow::anyhow!("encoding key: {err}")))?;
    let public = key.verifying_key().to_bytes();
    let kid = URL_SAFE_NO_PAD.encode(&public[..12]);
    conn.execute(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "INSERT INTO crm.signing_keys (kid, private_key, public_key, activates_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (kid) DO NOTHING",
        [kid.clone().into(), private.as_bytes().to_vec().into(), public.to_vec().into(), activates_at.into()],
    ))
    .await?;
    Ok(kid)
}

/// Serializes key creation across processes, until the transaction ends.
async fn lock_rotation(txn: &impl ConnectionTrait) -> Result<(), DbErr> {
    txn.execute(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_advisory_xact_lock($1)",
        [ROTATION_LOCK.into()],
    ))
    .await?;
    Ok(())
}

/// When the new key starts signing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// After [`PUBLISH_AHEAD`]: the routine rotation, invisible to clients.
    AfterPublishing,
    /// At once, for a suspected compromise: every other key is withdrawn in the same step, so
    /// the tokens they signed stop verifying as verifiers refetch the JWKS (within five minutes),
    /// and tokens of the new key may be refused for a few seconds by verifiers that have not.
    Immediately,
}

/// What a rotation did.
#[derive(Debug)]
pub struct Rotation {
    pub new_kid: Option<String>,
    pub activates_at: Option<DateTime<Utc>>,
    pub deleted: u64,
}

/// Rotates when the signing key is older than `every` (or when `force`), unless a successor is
/// already waiting; always deletes keys past their retention. Safe to run from many processes.
pub async fn rotate_if_due(db: &Db, every: Duration, force: Option<Activation>) -> ApiResult<Rotation> {
    let txn = db.conn().begin().await?;
    lock_rotation(&txn).await?;
    let now = Utc::now();
    let stored = load(&txn).await?;
    let active_since = stored.iter().find(|key| key.activates_at <= now).map(|key| key.activates_at);
    let waiting = stored.iter().any(|key| key.activates_at > now);
    let every = chrono::Duration::from_std(every).unwrap_or(chrono::Duration::MAX);
    let due = active_since.is_none_or(|since| since.checked_add_signed(every).is_some_and(|at| at <= now))
        && !waiting;
    let activation = force.or(due.then_some(Activation::AfterPublishing));

    let expired: Vec<String> = if activation == Some(Activation::Immediately) {
        stored.iter().map(|key| key.kid.clone()).collect()
    } else {
        let kept: Vec<&str> = published(&stored, now).iter().map(|key| key.kid.as_str()).collect();
        stored.iter().filter(|key| !kept.contains(&key.kid.as_str())).map(|key| key.kid.clone()).collect()
    };
    let deleted = if expired.is_empty() {
        0
    } else {
        txn.execute(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "DELETE FROM crm.signing_keys WHERE kid = ANY($1)",
            [expired.into()],
        ))
        .await?
        .rows_affected()
    };
    let (new_kid, activates_at) = match activation {
        None => (None, None),
        Some(activation) => {
            let at = match activation {
                // A first key has nothing to be published ahead of.
                Activation::AfterPublishing if active_since.is_some() => {
                    now + chrono::Duration::from_std(PUBLISH_AHEAD).unwrap_or_default()
                }
                _ => now,
            };
            (Some(create(&txn, at).await?), Some(at))
        }
    };
    txn.commit().await?;
    if let Some(kid) = &new_kid {
        tracing::info!(kid, activates_at = ?activates_at, deleted, "signing key rotated");
    }
    Ok(Rotation { new_kid, activates_at, deleted })
}

/// Checks hourly whether the signing key is due for rotation, until `shutdown`.
pub async fn run_rotation(db: Db, every: Duration, shutdown: tokio_util::sync::CancellationToken) {
    const CHECK: Duration = Duration::from_secs(3600);
    loop {
        if let Err(err) = rotate_if_due(&db, every, None).await {
            tracing::warn!(error = ?err, "signing key rotation check failed; will retry");
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(CHECK) => {}
        }
    }
}

fn public_jwk(key: &StoredKey) -> Jwk {
    Jwk {
        common: CommonParameters {
            public_key_use: Some(PublicKeyUse::Signature),
            key_algorithm: Some(KeyAlgorithm::EdDSA),
            key_id: Some(key.kid.clone()),
            ..Default::default()
        },
        algorithm: AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
            key_type: OctetKeyPairType::OctetKeyPair,
            curve: EllipticCurve::Ed25519,
            x: URL_SAFE_NO_PAD.encode(&key.public_key),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(kid: &str, activates_at: DateTime<Utc>) -> StoredKey {
        StoredKey {
            kid: kid.to_owned(),
            private_key: Vec::new(),
            public_key: Vec::new(),
            created_at: activates_at,
            activates_at,
        }
    }

    fn kids(keys: Vec<&StoredKey>) -> Vec<&str> {
        keys.into_iter().map(|k| k.kid.as_str()).collect()
    }

    #[test]
    fn a_replaced_key_stays_published_until_its_tokens_have_expired() {
        let now = Utc::now();
        let minutes = chrono::Duration::minutes;
        let retention = chrono::Duration::from_std(RETIRED_KEY_RETENTION).expect("duration");
        // Newest first: a successor waiting, the active key, the key it replaced, an old one.
        let waiting = vec![key("next", now + minutes(5)), key("active", now - minutes(60))];
        assert_eq!(kids(published(&waiting, now)), ["next", "active"]);

        let recently_replaced = vec![
            key("active", now - minutes(1)),
            key("old", now - minutes(90)),
            key("older", now - minutes(900)),
        ];
        assert_eq!(kids(published(&recently_replaced, now)), ["active", "old"]);

        let long_replaced = vec![key("active", now - retention - minutes(1)), key("old", now - minutes(90))];
        assert_eq!(kids(published(&long_replaced, now)), ["active"]);
    }
}
