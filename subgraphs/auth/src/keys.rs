//! Signing keys. Kept in the global schema so every auth replica signs with the same key and
//! every verifier finds it in the JWKS; created on first use.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use crm_platform::{ApiError, ApiResult, Db};
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::EncodingKey;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm, OctetKeyPairParameters,
    OctetKeyPairType, PublicKeyUse,
};
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Statement};
use tokio::sync::OnceCell;

/// The newest key signs; every stored key is published so tokens signed before a rotation verify.
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
    keyring: OnceCell<Keyring>,
}

#[derive(FromQueryResult)]
struct StoredKey {
    kid: String,
    private_key: Vec<u8>,
    public_key: Vec<u8>,
}

impl AuthKeys {
    pub fn new(db: Db) -> Self {
        Self { db, keyring: OnceCell::new() }
    }

    pub async fn keyring(&self) -> ApiResult<&Keyring> {
        self.keyring.get_or_try_init(|| load_or_create(&self.db)).await
    }
}

async fn load_or_create(db: &Db) -> ApiResult<Keyring> {
    let mut stored = load(db).await?;
    if stored.is_empty() {
        create(db).await?;
        stored = load(db).await?;
    }
    let newest = stored.first().ok_or_else(|| ApiError::internal(anyhow::anyhow!("no signing key")))?;
    Ok(Keyring {
        signing_kid: newest.kid.clone(),
        signing_key: EncodingKey::from_ed_der(&newest.private_key),
        jwks: JwkSet { keys: stored.iter().map(public_jwk).collect() },
    })
}

async fn load(db: &Db) -> ApiResult<Vec<StoredKey>> {
    Ok(StoredKey::find_by_statement(Statement::from_string(
        DbBackend::Postgres,
        "SELECT kid, private_key, public_key FROM crm.signing_keys ORDER BY created_at DESC, kid",
    ))
    .all(db.conn())
    .await?)
}

async fn create(db: &Db) -> ApiResult<()> {
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let private =
        key.to_pkcs8_der().map_err(|err| ApiError::internal(anyhow::anyhow!("encoding key: {err}")))?;
    let public = key.verifying_key().to_bytes();
    let kid = URL_SAFE_NO_PAD.encode(&public[..12]);
    db.conn()
        .execute(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO crm.signing_keys (kid, private_key, public_key) VALUES ($1, $2, $3)
             ON CONFLICT (kid) DO NOTHING",
            [kid.into(), private.as_bytes().to_vec().into(), public.to_vec().into()],
        ))
        .await?;
    Ok(())
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
