//! Invitations: an admin invites an address with a role; the invitee accepts with the token from
//! the emailed link, as a new identity or an existing one (proven by its password). Tokens are
//! 256 random bits stored hashed, valid 7 days. Seats are limited by plan: members plus open
//! invitations may not exceed it (PAYMENT_REQUIRED).

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use crm_entities::events::tenancy::{UserInvited, UserJoined};
use crm_entities::global::tenant::Plan;
use crm_entities::global::{invitation, membership, user};
use crm_platform::error::is_unique_violation;
use crm_platform::events::{self, Envelope};
use crm_platform::ids::UserId;
use crm_platform::password::{check_password_rules, hash_password, verify_password};
use crm_platform::sql::columns;
use crm_platform::text::{self, EmailAddress};
use crm_platform::{ApiError, ApiResult, Db, Role, TenantId};
use rand::RngCore;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Set,
    Statement, TransactionTrait,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

const INVITATION_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

const OPEN: &str = "accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now()
     AND tenant_id IN (SELECT id FROM crm.tenants WHERE deleted_at IS NULL)";

/// Invites `email` with `role`; returns the invitation. The link goes out through an event.
#[tracing::instrument(skip_all, fields(tenant.id = %tenant))]
pub async fn invite(
    db: &Db,
    app_base_url: &str,
    tenant: TenantId,
    inviter: (UserId, Role),
    email: &EmailAddress,
    role: Role,
) -> ApiResult<invitation::Model> {
    if role == Role::Owner && inviter.1 != Role::Owner {
        return Err(ApiError::Forbidden("only an owner can invite another owner".to_owned()));
    }
    let txn = db.conn().begin().await?;
    // Serialize seat counting per tenant, so two invitations cannot both take the last seat.
    let seats = txn
        .query_one(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(
                "SELECT t.plan,
                        (SELECT count(*) FROM crm.memberships m WHERE m.tenant_id = t.id)
                      + (SELECT count(*) FROM crm.invitations i WHERE i.tenant_id = t.id AND {OPEN}) AS used,
                        EXISTS (SELECT 1 FROM crm.memberships m JOIN crm.users u ON u.id = m.user_id
                                WHERE m.tenant_id = t.id AND u.email = $2) AS already_member
                 FROM crm.tenants t WHERE t.id = $1 FOR UPDATE"
            ),
            [tenant.0.into(), email.as_str().into()],
        ))
        .await?
        .ok_or(ApiError::NotFound("tenant"))?;
    let plan: Plan = seats.try_get("", "plan")?;
    let used: i64 = seats.try_get("", "used")?;
    let already_member: bool = seats.try_get("", "already_member")?;
    if already_member {
        return Err(ApiError::Conflict("this person is already a member".to_owned()));
    }
    if used >= plan.seat_limit() {
        return Err(ApiError::PaymentRequired(format!(
            "the {} plan allows {} members and open invitations; upgrade to invite more",
            plan.to_value(),
            plan.seat_limit()
        )));
    }
    // Expired invitations to this address no longer count; close them so the new one can open.
    txn.execute(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE crm.invitations SET revoked_at = now()
         WHERE tenant_id = $1 AND email = $2 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at <= now()",
        [tenant.0.into(), email.as_str().into()],
    ))
    .await?;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let row = invitation::Entity::find()
        .from_raw_sql(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(
                "INSERT INTO crm.invitations (id, tenant_id, email, role, token_hash, invited_by, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7))
                 RETURNING {}",
                columns::<invitation::Entity>("")
            ),
            [
                Uuid::now_v7().into(),
                tenant.0.into(),
                email.as_str().into(),
                role.into(),
                Sha256::digest(token.as_bytes()).to_vec().into(),
                inviter.0.0.into(),
                (INVITATION_TTL.as_secs() as f64).into(),
            ],
        ))
        .one(&txn)
        .await
        .map_err(|err| {
            if is_unique_violation(&err, "invitations_open_key") {
                ApiError::Conflict("this address already has an open invitation".to_owned())
            } else {
                err.into()
            }
        })?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("insert returned nothing")))?;
    let link = format!("{app_base_url}/accept-invitation?token={token}");
    let invited =
        UserInvited { invitation_id: row.id, email: row.email.clone(), role: row.role, accept_url: link };
    let event = Envelope::new(tenant, Some(inviter.0), &invited)?;
    events::enqueue(&txn, &event).await?;
    txn.commit().await?;
    Ok(row)
}

pub async fn list_open(db: &Db, tenant: TenantId) -> ApiResult<Vec<invitation::Model>> {
    Ok(invitation::Entity::find()
        .from_raw_sql(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(
                "SELECT {} FROM crm.invitations WHERE tenant_id = $1 AND {OPEN} ORDER BY id",
                columns::<invitation::Entity>("")
            ),
            [tenant.0.into()],
        ))
        .all(db.conn())
        .await?)
}

pub async fn revoke(db: &Db, tenant: TenantId, id: Uuid) -> ApiResult<()> {
    let result = db
        .conn()
        .execute(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "UPDATE crm.invitations SET revoked_at = now()
             WHERE id = $1 AND tenant_id = $2 AND accepted_at IS NULL AND revoked_at IS NULL",
            [id.into(), tenant.0.into()],
        ))
        .await?;
    if result.rows_affected() == 0 {
        return Err(ApiError::NotFound("invitation"));
    }
    Ok(())
}

/// Who accepts: a name for a new identity; the password creates or proves it.
pub struct Acceptance {
    pub token: String,
    pub name: Option<String>,
    pub password: String,
}

/// Accepts an invitation; returns the tenant and the member's user id.
pub async fn accept(db: &Db, acceptance: Acceptance) -> ApiResult<(TenantId, Uuid)> {
    let invalid = || ApiError::bad_input("token", "this invitation is invalid, used, revoked or expired");
    let txn = db.conn().begin().await?;
    let claimed = invitation::Entity::find()
        .from_raw_sql(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(
                "UPDATE crm.invitations SET accepted_at = now() WHERE token_hash = $1 AND {OPEN} RETURNING {}",
                columns::<invitation::Entity>("")
            ),
            [Sha256::digest(acceptance.token.as_bytes()).to_vec().into()],
        ))
        .one(&txn)
        .await?
        .ok_or_else(invalid)?;
    let existing = user::Entity::find().filter(user::Column::Email.eq(&claimed.email)).one(&txn).await?;
    let user_id = match existing {
        Some(account) => {
            if !verify_password(acceptance.password, Some(account.password_hash)).await {
                return Err(ApiError::bad_input("password", "use the password of your existing account"));
            }
            account.id
        }
        None => {
            check_password_rules(&acceptance.password)?;
            let name = text::required("name", acceptance.name.as_deref().unwrap_or_default(), 200)?;
            let account = user::ActiveModel {
                id: Set(UserId::new().0),
                email: Set(claimed.email.clone()),
                password_hash: Set(hash_password(acceptance.password).await?),
                name: Set(name),
                created_at: Set(Utc::now()),
            };
            account.insert(&txn).await?.id
        }
    };
    let joining = membership::ActiveModel {
        tenant_id: Set(claimed.tenant_id),
        user_id: Set(user_id),
        role: Set(claimed.role),
        created_at: Set(Utc::now()),
    };
    membership::Entity::insert(joining)
        .on_conflict(
            OnConflict::columns([membership::Column::TenantId, membership::Column::UserId])
                .do_nothing()
                .to_owned(),
        )
        .do_nothing()
        .exec(&txn)
        .await?;
    let tenant = TenantId(claimed.tenant_id);
    let joined = UserJoined { user_id: UserId(user_id), role: claimed.role };
    let event = Envelope::new(tenant, Some(UserId(user_id)), &joined)?;
    events::enqueue(&txn, &event).await?;
    txn.commit().await?;
    Ok((tenant, user_id))
}
