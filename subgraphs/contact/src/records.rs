//! Checks shared by contact and company writes: what a record may point at.

use crm_entities::global::member;
use crm_entities::ids::CompanyId;
use crm_entities::tenant::company;
use crm_platform::ids::UserId;
use crm_platform::{ApiError, ApiResult, TenantTx};
use sea_orm::EntityTrait;

/// An owner must be a member of the organization.
pub async fn check_owner(tx: &TenantTx, owner: UserId) -> ApiResult<()> {
    match member::find(&**tx, tx.tenant(), owner.0).await? {
        Some(_) => Ok(()),
        None => Err(ApiError::bad_input("ownerId", "ownerId is not a member of this organization")),
    }
}

/// A company that exists in the caller's tenant and is not in the trash; `field` names the input.
pub async fn live_company(tx: &TenantTx, id: CompanyId, field: &'static str) -> ApiResult<company::Model> {
    match company::Entity::find_by_id(id.0).one(&**tx).await? {
        Some(row) if row.deleted_at.is_none() => Ok(row),
        Some(_) => Err(ApiError::bad_input(field, format!("{field} names a company in the trash"))),
        None => Err(ApiError::bad_input(field, "company not found")),
    }
}
