//! `registerOrganization`: the organization, its owner and its schema, all or nothing.

use std::time::Duration;

use chrono::Utc;
use crm_entities::events::tenancy::{TenantCreated, UserCreated};
use crm_entities::global::tenant::Plan;
use crm_entities::global::{membership, tenant, user};
use crm_platform::client_address::ClientAddress;
use crm_platform::error::is_unique_violation;
use crm_platform::events::{self, Envelope};
use crm_platform::ids::UserId;
use crm_platform::kv::Kv;
use crm_platform::password::{check_password_rules, hash_password, verify_password};
use crm_platform::rate_limit::{Limit, address_bucket, hit};
use crm_platform::text::{self, EmailAddress};
use crm_platform::{ApiError, ApiResult, Db, Role, TenantId};
use sea_orm::{ActiveModelTrait, ColumnTrait, DbErr, EntityTrait, QueryFilter, Set, TransactionTrait};

use crate::provisioning::provision_schema;

/// Registrations that provision at once in this process.
const PROVISIONING_CONCURRENCY: usize = 2;
static PROVISIONING_SLOTS: tokio::sync::Semaphore =
    tokio::sync::Semaphore::const_new(PROVISIONING_CONCURRENCY);
use crate::subdomain::Subdomain;

/// A validated registration.
pub struct Registration {
    pub name: String,
    pub subdomain: Subdomain,
    pub owner_email: EmailAddress,
    pub owner_name: String,
    pub owner_password: String,
}

impl Registration {
    pub fn parse(
        name: &str,
        subdomain: &str,
        owner_email: &str,
        owner_name: &str,
        owner_password: String,
    ) -> ApiResult<Self> {
        check_password_rules(&owner_password)?;
        Ok(Self {
            name: text::required("name", name, 200)?,
            subdomain: Subdomain::parse(subdomain)?,
            owner_email: EmailAddress::parse("owner.email", owner_email)?,
            owner_name: text::required("owner.name", owner_name, 200)?,
            owner_password,
        })
    }
}

/// Registrations allowed per client address within [`REGISTRATION_WINDOW`]: each one creates a
/// schema, so an anonymous caller must not create them without end.
pub const REGISTRATIONS_PER_ADDRESS: u64 = 10;
pub const REGISTRATION_WINDOW: Duration = Duration::from_secs(3600);
/// Password proofs allowed per existing identity within [`PROOF_WINDOW`]: registering with an
/// existing email checks its password, which must not become an unthrottled way to guess it.
pub const PASSWORD_PROOFS_PER_IDENTITY: u64 = 10;
pub const PROOF_WINDOW: Duration = Duration::from_secs(15 * 60);

/// Counts a (valid) registration against the caller's address; RATE_LIMITED past the limit.
pub async fn admit(kv: &Kv, client: Option<ClientAddress>) -> ApiResult<()> {
    let Some(client) = client else { return Ok(()) };
    let limit = Limit {
        what: "registrations from this address",
        key: format!("register-address:{}", address_bucket(client)),
        max: REGISTRATIONS_PER_ADDRESS,
    };
    hit(kv, &[limit], REGISTRATION_WINDOW).await
}

#[tracing::instrument(skip_all, fields(subdomain = registration.subdomain.as_str()))]
pub async fn register_organization(
    db: &Db,
    kv: &Kv,
    registration: Registration,
) -> ApiResult<(tenant::Model, user::Model)> {
    // One person, one identity: an existing account may found another organization, proving
    // itself with its password. Hashing and verifying happen before the transaction opens.
    let existing = user::Entity::find()
        .filter(user::Column::Email.eq(registration.owner_email.as_str()))
        .one(db.conn())
        .await?;
    let new_password_hash = match &existing {
        Some(account) => {
            let proofs = Limit {
                what: "password attempts for this account",
                key: format!("identity-proof:{}", registration.owner_email.as_str()),
                max: PASSWORD_PROOFS_PER_IDENTITY,
            };
            hit(kv, &[proofs], PROOF_WINDOW).await?;
            let proven =
                verify_password(registration.owner_password.clone(), Some(account.password_hash.clone()))
                    .await;
            if !proven {
                return Err(ApiError::Conflict(
                    "an account with this email already exists; use its password to add an organization"
                        .to_owned(),
                ));
            }
            None
        }
        None => Some(hash_password(registration.owner_password.clone()).await?),
    };
    let tenant_id = TenantId::new();
    let now = Utc::now();

    // Provisioning runs a schema's worth of DDL on one pooled connection for a while; a burst
    // of registrations queues here rather than for the pool, which stays free for everything
    // else (and whose short acquire timeout would fail the burst's tail).
    let _slot = PROVISIONING_SLOTS.acquire().await.map_err(ApiError::internal)?;
    let txn = db.conn().begin().await?;
    let tenant = tenant::ActiveModel {
        id: Set(tenant_id.0),
        name: Set(registration.name.clone()),
        subdomain: Set(registration.subdomain.as_str().to_owned()),
        plan: Set(Plan::Free),
        created_at: Set(now),
        // Settings start at their column defaults (UTC, USD, en-US, January).
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| conflict_or(e, "tenants_subdomain_key", "this subdomain is already taken"))?;
    let (user, created) = match (existing, new_password_hash) {
        (Some(account), _) => (account, false),
        (None, password_hash) => {
            let account = user::ActiveModel {
                id: Set(UserId::new().0),
                email: Set(registration.owner_email.as_str().to_owned()),
                password_hash: Set(password_hash.unwrap_or_default()),
                name: Set(registration.owner_name.clone()),
                created_at: Set(now),
            }
            .insert(&txn)
            .await
            .map_err(|e| conflict_or(e, "users_email_key", "an account with this email already exists"))?;
            (account, true)
        }
    };
    let user_id = UserId(user.id);
    membership::ActiveModel {
        tenant_id: Set(tenant_id.0),
        user_id: Set(user_id.0),
        role: Set(Role::Owner),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;

    provision_schema(&txn, tenant_id).await?;

    let actor = Some(user_id);
    let registered = TenantCreated { tenant_id, subdomain: tenant.subdomain.clone() };
    events::enqueue(&txn, &Envelope::new(tenant_id, actor, &registered)?).await?;
    if created {
        let owner = UserCreated { user_id, role: Role::Owner };
        events::enqueue(&txn, &Envelope::new(tenant_id, actor, &owner)?).await?;
    }
    txn.commit().await?;
    tracing::info!(tenant.id = %tenant_id, "organization registered");
    Ok((tenant, user))
}

fn conflict_or(err: DbErr, constraint: &str, message: &str) -> ApiError {
    if is_unique_violation(&err, constraint) { ApiError::Conflict(message.to_owned()) } else { err.into() }
}
