//! Members of an organization. The last owner can be neither demoted, removed nor leave; admins
//! manage members but not owners. A member whose role changes or who is removed is signed out
//! of the organization at once, so the change applies to their next request.

use crm_entities::global::member::{self, Member};
use crm_entities::global::tenant;
use crm_platform::ids::UserId;
use crm_platform::sessions::SessionStore;
use crm_platform::sign_out::SignOut;
use crm_platform::{ApiError, ApiResult, Db, Role, TenantId};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, Statement, TransactionTrait};

/// The live organizations `user` belongs to, by name, with the user's role in each: only the
/// caller's own memberships, whatever organization the token is for.
pub async fn organizations_of(db: &Db, user: UserId) -> ApiResult<Vec<(tenant::Model, Role)>> {
    use sea_orm::{ColumnTrait, EntityTrait, FromQueryResult, QueryFilter};
    #[derive(FromQueryResult)]
    struct Membership {
        tenant_id: uuid::Uuid,
        role: Role,
    }
    let memberships = Membership::find_by_statement(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT m.tenant_id, m.role FROM crm.memberships m JOIN crm.tenants t ON t.id = m.tenant_id
         WHERE m.user_id = $1 AND t.deleted_at IS NULL ORDER BY t.name, t.id",
        [user.0.into()],
    ))
    .all(db.conn())
    .await?;
    let ids: Vec<uuid::Uuid> = memberships.iter().map(|m| m.tenant_id).collect();
    let tenants = tenant::Entity::find().filter(tenant::Column::Id.is_in(ids)).all(db.conn()).await?;
    Ok(memberships
        .into_iter()
        .filter_map(|m| tenants.iter().find(|t| t.id == m.tenant_id).map(|t| (t.clone(), m.role)))
        .collect())
}

pub async fn list(db: &Db, tenant: TenantId) -> ApiResult<Vec<Member>> {
    Ok(member::list(db.conn(), tenant).await?)
}

/// Locks the organization's memberships (through its row) and returns the target's role and the
/// number of owners, so concurrent changes cannot both take away the last owner.
async fn lock(txn: &DatabaseTransaction, tenant: TenantId, target: UserId) -> ApiResult<(Role, i64)> {
    txn.execute(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT 1 FROM crm.tenants WHERE id = $1 FOR UPDATE",
        [tenant.0.into()],
    ))
    .await?;
    let row = txn
        .query_one(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT m.role, (SELECT count(*) FROM crm.memberships o WHERE o.tenant_id = $1 AND o.role = 'owner') AS owners
             FROM crm.memberships m WHERE m.tenant_id = $1 AND m.user_id = $2",
            [tenant.0.into(), target.0.into()],
        ))
        .await?
        .ok_or(ApiError::NotFound("member"))?;
    let role: Role = row.try_get("", "role")?;
    let owners: i64 = row.try_get("", "owners")?;
    Ok((role, owners))
}

/// Only owners may touch owners or make someone an owner.
fn check_authority(actor: Role, current: Role, new: Option<Role>) -> ApiResult<()> {
    let touches_owner = current == Role::Owner || new == Some(Role::Owner);
    if touches_owner && actor != Role::Owner {
        return Err(ApiError::Forbidden("only an owner can change an owner or make one".to_owned()));
    }
    Ok(())
}

pub async fn change_role(
    db: &Db,
    sessions: &SessionStore,
    tenant: TenantId,
    actor: Role,
    target: UserId,
    new: Role,
) -> ApiResult<Member> {
    let txn = db.conn().begin().await?;
    let (current, owners) = lock(&txn, tenant, target).await?;
    check_authority(actor, current, Some(new))?;
    if current == Role::Owner && new != Role::Owner && owners <= 1 {
        return Err(ApiError::Conflict(
            "the last owner cannot be demoted; make someone else an owner first".to_owned(),
        ));
    }
    txn.execute(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE crm.memberships SET role = $3 WHERE tenant_id = $1 AND user_id = $2",
        [tenant.0.into(), target.0.into(), new.into()],
    ))
    .await?;
    txn.commit().await?;
    if current != new {
        SignOut::Member { tenant, user: target }.apply(db, sessions).await?;
    }
    member::find(db.conn(), tenant, target.0).await?.ok_or(ApiError::NotFound("member"))
}

/// Removes `target`; `actor` is `None` when members leave on their own.
pub async fn remove(
    db: &Db,
    sessions: &SessionStore,
    tenant: TenantId,
    actor: Option<Role>,
    target: UserId,
) -> ApiResult<()> {
    let txn = db.conn().begin().await?;
    let (current, owners) = lock(&txn, tenant, target).await?;
    if let Some(actor) = actor {
        check_authority(actor, current, None)?;
    }
    if current == Role::Owner && owners <= 1 {
        return Err(ApiError::Conflict("the last owner cannot leave or be removed".to_owned()));
    }
    txn.execute(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "DELETE FROM crm.memberships WHERE tenant_id = $1 AND user_id = $2",
        [tenant.0.into(), target.0.into()],
    ))
    .await?;
    crate::preferences::forget(&txn, tenant, target).await?;
    txn.commit().await?;
    SignOut::Member { tenant, user: target }.apply(db, sessions).await
}
