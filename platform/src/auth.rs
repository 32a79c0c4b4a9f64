//! Who is calling: access tokens are verified against the auth subgraph's JWKS, and the verified
//! claims are the only source of the tenant. Nothing here trusts a header, argument or payload.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_graphql::Context;
use async_graphql::dataloader::{DataLoader, Loader};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex as AsyncMutex, RwLock};

use crate::batching::LoadQueue;
use crate::config::JwtSettings;
use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::ids::{SessionId, UserId};
use crate::kv::Kv;
use crate::tenancy::{RequestReads, TenantId, TenantTx};
use crate::verified_tokens::VerifiedTokens;

crate::stored_enum! {
    /// A member's role in one organization.
    pub enum Role {
        Owner,
        Admin,
        Member,
        Viewer,
    }
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Member => "member",
            Self::Viewer => "viewer",
        }
    }

    /// Viewers read only; every other role writes CRM data.
    pub fn can_write_crm_data(self) -> bool {
        !matches!(self, Self::Viewer)
    }

    /// Rank for comparisons: owner > admin > member > viewer.
    fn rank(self) -> u8 {
        match self {
            Self::Owner => 3,
            Self::Admin => 2,
            Self::Member => 1,
            Self::Viewer => 0,
        }
    }

    /// True when this role includes everything `required` may do.
    pub fn includes(self, required: Role) -> bool {
        self.rank() >= required.rank()
    }
}

/// The claims of a verified access token.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: UserId,
    pub tenant: TenantId,
    pub role: Role,
    pub sid: SessionId,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
}

/// Why a token was refused. Logged, never told: clients get UNAUTHENTICATED for all of them.
#[derive(Debug, PartialEq, Eq)]
pub enum Rejection {
    /// Not a JWT.
    Malformed,
    /// The header names an algorithm other than [`TOKEN_ALGORITHM`] (`none`, or HMAC keyed with a
    /// public key: algorithm confusion).
    Algorithm,
    NoKeyId,
    /// No published key has this `kid`.
    UnknownKey,
    /// Bad signature, expired, not yet valid, wrong issuer or audience, or missing claims.
    Invalid(String),
}

/// The single algorithm our keys use; tokens naming any other are rejected before key lookup.
pub const TOKEN_ALGORITHM: Algorithm = Algorithm::EdDSA;

/// Unknown `kid`s trigger a JWKS refetch at most this often, so garbage tokens cannot hammer auth.
const MIN_REFETCH_INTERVAL: Duration = Duration::from_secs(5);
/// Known keys are refetched this often, so a key the auth subgraph stopped publishing (rotated
/// out, or withdrawn after a compromise) stops verifying everywhere.
const MAX_KEY_CACHE_AGE: Duration = Duration::from_secs(5 * 60);

pub struct JwtVerifier {
    settings: JwtSettings,
    http: reqwest::Client,
    keys: RwLock<KeyCache>,
    fetching: AsyncMutex<()>,
    verified: VerifiedTokens,
}

#[derive(Default)]
struct KeyCache {
    by_kid: HashMap<String, DecodingKey>,
    /// The last successful fetch.
    fetched_at: Option<Instant>,
    /// The last fetch, successful or not: fetches are at least [`MIN_REFETCH_INTERVAL`] apart.
    attempted_at: Option<Instant>,
}

impl JwtVerifier {
    pub fn new(settings: JwtSettings) -> Self {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(3)).build().unwrap_or_default();
        Self {
            settings,
            http,
            keys: RwLock::new(KeyCache::default()),
            fetching: AsyncMutex::new(()),
            verified: VerifiedTokens::default(),
        }
    }

    /// The verified claims; any refusal is UNAUTHENTICATED, whatever its reason.
    pub async fn verify(&self, token: &str) -> ApiResult<Claims> {
        if let Some(claims) = self.verified.get(token) {
            return Ok(claims);
        }
        let claims = self.inspect(token).await?.map_err(|rejection| {
            tracing::debug!(?rejection, "access token rejected");
            ApiError::Unauthenticated
        })?;
        self.verified.insert(token, &claims);
        Ok(claims)
    }

    /// Verifies `token`, telling why it was refused; the outer error is for keys that could not
    /// be fetched. The algorithm is checked before anything else, against the header alone.
    pub async fn inspect(&self, token: &str) -> ApiResult<Result<Claims, Rejection>> {
        let Ok(header) = jsonwebtoken::decode_header(token) else {
            return Ok(Err(Rejection::Malformed));
        };
        if header.alg != TOKEN_ALGORITHM {
            return Ok(Err(Rejection::Algorithm));
        }
        let Some(kid) = header.kid else {
            return Ok(Err(Rejection::NoKeyId));
        };
        let Some(key) = self.key(&kid).await? else {
            return Ok(Err(Rejection::UnknownKey));
        };

        let mut validation = Validation::new(TOKEN_ALGORITHM);
        validation.set_issuer(&[&self.settings.issuer]);
        validation.set_audience(&[&self.settings.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = 30;
        Ok(jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map(|data| data.claims)
            .map_err(|err| Rejection::Invalid(err.to_string())))
    }

    async fn key(&self, kid: &str) -> ApiResult<Option<DecodingKey>> {
        let cached = {
            let cache = self.keys.read().await;
            let cached = cache.by_kid.get(kid).cloned();
            let fresh = cache.fetched_at.is_some_and(|at| at.elapsed() < MAX_KEY_CACHE_AGE);
            let may_fetch = cache.attempted_at.is_none_or(|at| at.elapsed() >= MIN_REFETCH_INTERVAL);
            if (cached.is_some() && fresh) || !may_fetch {
                return Ok(cached);
            }
            cached
        };
        // One fetch at a time. A known key's holder does not wait for it (the cached key serves);
        // an unknown kid waits, since the fetch may bring it.
        let _fetching = match (&cached, self.fetching.try_lock()) {
            (_, Ok(guard)) => guard,
            (Some(_), Err(_)) => return Ok(cached),
            (None, Err(_)) => self.fetching.lock().await,
        };
        if self.keys.read().await.attempted_at.is_some_and(|at| at.elapsed() < MIN_REFETCH_INTERVAL) {
            return Ok(self.keys.read().await.by_kid.get(kid).cloned());
        }
        // No lock on the cache while the network call runs: verification goes on meanwhile.
        let fetched = self.fetch_jwks().await;
        let mut cache = self.keys.write().await;
        cache.attempted_at = Some(Instant::now());
        match fetched {
            Ok(set) => {
                cache.by_kid = set
                    .keys
                    .iter()
                    .filter_map(|jwk| {
                        let kid = jwk.common.key_id.clone()?;
                        DecodingKey::from_jwk(jwk).ok().map(|key| (kid, key))
                    })
                    .collect();
                cache.fetched_at = cache.attempted_at;
                // A key may have been withdrawn: every token is verified against the new set.
                self.verified.clear();
            }
            // Auth unreachable: keys we already know stay good until it answers again.
            Err(err) if cache.by_kid.contains_key(kid) => {
                tracing::warn!(error = ?err, "JWKS refresh failed; using the cached keys");
            }
            Err(err) => return Err(err),
        }
        Ok(cache.by_kid.get(kid).cloned())
    }

    async fn fetch_jwks(&self) -> ApiResult<JwkSet> {
        let response = self
            .http
            .get(&self.settings.jwks_url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|err| ApiError::internal(anyhow::anyhow!("fetching JWKS failed: {err}")))?;
        response
            .json::<JwkSet>()
            .await
            .map_err(|err| ApiError::internal(anyhow::anyhow!("JWKS is not valid: {err}")))
    }
}

/// What the HTTP layer learned about the request's credentials.
#[derive(Clone)]
pub enum RequestAuth {
    Anonymous,
    Verified(Arc<Caller>),
    /// A bad, expired or logged-out token.
    Rejected,
    /// The session store could not be asked; the request is refused, not guessed at.
    SessionsUnavailable,
}

/// A verified caller inside one request: claims, the pool, and the request's data loaders.
pub struct Caller {
    pub claims: Claims,
    db: Db,
    kv: Arc<Kv>,
    loaders: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
    /// Where the loaders' batches wait for the end of the request's poll (see [`crate::batching`]).
    load_queue: Arc<LoadQueue>,
    /// The loaders' reads, in one transaction while the request is driven.
    reads: Arc<RequestReads>,
}

/// A loader that reads one tenant's data; built on first use within a request.
pub trait TenantLoader: Send + Sync + 'static {
    /// Built from the caller, whose tenant it is bound to.
    fn new(caller: &Caller) -> Self;
}

impl Caller {
    pub fn new(claims: Claims, db: Db, kv: Arc<Kv>) -> Self {
        let reads = Arc::new(RequestReads::new(db.clone(), claims.tenant));
        Self { claims, db, kv, loaders: Mutex::new(HashMap::new()), load_queue: Arc::default(), reads }
    }

    /// The loaders' reads in the caller's tenant.
    pub fn reads(&self) -> Arc<RequestReads> {
        Arc::clone(&self.reads)
    }

    /// The queue to hand to [`crate::batching::drive`] around this caller's request.
    pub fn load_queue(&self) -> Arc<LoadQueue> {
        Arc::clone(&self.load_queue)
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The shared Redis connection, for caches bound to the caller's tenant.
    pub fn kv(&self) -> &Arc<Kv> {
        &self.kv
    }

    /// The verified caller of this request, or UNAUTHENTICATED.
    pub fn of<'a>(ctx: &'a Context<'_>) -> ApiResult<&'a Arc<Caller>> {
        match ctx.data_opt::<RequestAuth>() {
            Some(RequestAuth::Verified(caller)) => Ok(caller),
            _ => Err(ApiError::Unauthenticated),
        }
    }

    pub fn tenant(&self) -> TenantId {
        self.claims.tenant
    }

    pub fn user(&self) -> UserId {
        self.claims.sub
    }

    /// Opens a transaction scoped to the caller's tenant.
    pub async fn tx(&self) -> ApiResult<TenantTx> {
        Ok(TenantTx::begin(&self.db, self.tenant()).await?)
    }

    /// The one role check: FORBIDDEN unless the caller's role includes `required`.
    pub fn require(&self, required: Role) -> ApiResult<()> {
        if self.claims.role.includes(required) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!("this needs the {} role or higher", required.as_str())))
        }
    }

    /// Opens a transaction for a write, refusing read-only roles first.
    pub async fn write_tx(&self) -> ApiResult<TenantTx> {
        if !self.claims.role.can_write_crm_data() {
            return Err(ApiError::Forbidden("your role can only read".to_owned()));
        }
        self.tx().await
    }

    /// The request's batching loader of type `L`, created on first use.
    pub fn loader<L, K>(&self) -> Arc<DataLoader<L>>
    where
        L: TenantLoader + Loader<K>,
        K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    {
        let mut loaders = self.loaders.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = loaders.entry(TypeId::of::<L>()).or_insert_with(|| {
            let loader = L::new(self);
            let queue = Arc::clone(&self.load_queue);
            // No timer: the batch closes when the request's poll ends (or the fallback window).
            Arc::new(DataLoader::new(loader, move |work| queue.submit(work)).delay(Duration::ZERO))
                as Arc<dyn Any + Send + Sync>
        });
        Arc::clone(entry)
            .downcast::<DataLoader<L>>()
            .unwrap_or_else(|_| unreachable!("loader registry is keyed by the loader's type"))
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use ed25519_dalek::SigningKey;
    use ed25519_dalek::pkcs8::EncodePrivateKey;
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;

    use super::*;

    /// Serves `jwks` on a loopback port, as the auth subgraph would.
    async fn serve_jwks(jwks: serde_json::Value) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/jwks", listener.local_addr().expect("addr"));
        let app = axum::Router::new().route(
            "/jwks",
            axum::routing::get(move || {
                let jwks = jwks.clone();
                async move { axum::Json(jwks) }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    }

    /// A2: a token HMAC-signed with the published public key — what a verifier that took the
    /// algorithm from the header would accept — is refused, and for its algorithm: the same
    /// claims signed properly with that key verify.
    #[tokio::test]
    async fn a_token_signed_with_another_algorithm_is_refused_for_its_algorithm() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let public = key.verifying_key().to_bytes();
        let x = URL_SAFE_NO_PAD.encode(public);
        let jwks = json!({ "keys": [{ "kty": "OKP", "crv": "Ed25519", "x": x, "kid": "k1", "alg": "EdDSA", "use": "sig" }] });
        let settings = JwtSettings {
            issuer: "crm".to_owned(),
            audience: "api".to_owned(),
            jwks_url: serve_jwks(jwks).await,
            access_ttl: Duration::from_secs(900),
        };
        let verifier = JwtVerifier::new(settings);
        let now = chrono::Utc::now().timestamp();
        let id = uuid::Uuid::now_v7();
        let claims = json!({
            "sub": id, "tenant": id, "role": "owner", "sid": id,
            "iss": "crm", "aud": "api", "iat": now, "nbf": now, "exp": now + 600,
        });
        let header = |alg| Header { kid: Some("k1".to_owned()), ..Header::new(alg) };

        let der = key.to_pkcs8_der().expect("pkcs8");
        let genuine = jsonwebtoken::encode(
            &header(TOKEN_ALGORITHM),
            &claims,
            &EncodingKey::from_ed_der(der.as_bytes()),
        )
        .expect("sign");
        let verified = verifier.inspect(&genuine).await.expect("keys fetched");
        assert!(verified.is_ok(), "the control token verifies: {verified:?}");

        for secret in [x.as_bytes(), &public[..]] {
            for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
                let forged = jsonwebtoken::encode(&header(alg), &claims, &EncodingKey::from_secret(secret))
                    .expect("sign");
                let outcome = verifier.inspect(&forged).await.expect("no key lookup needed");
                assert!(matches!(outcome, Err(Rejection::Algorithm)), "{alg:?}: {outcome:?}");
            }
        }
        let unsigned = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT","kid":"k1"}"#),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let outcome = verifier.inspect(&unsigned).await.expect("no key lookup needed");
        assert!(matches!(outcome, Err(Rejection::Algorithm | Rejection::Malformed)), "{outcome:?}");
        assert!(verifier.verify(&unsigned).await.is_err());
    }
}
