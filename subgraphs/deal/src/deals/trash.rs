//! The deal trash: `deleteDeal` hides a deal from boards, lists and analytics until
//! `restoreDeal` brings it back (its unique custom field values checked again, since another
//! deal may have taken one meanwhile).

use chrono::Utc;
use crm_entities::events::deal::{DealDeleted, DealRestored};
use crm_entities::ids::DealId;
use crm_entities::tenant::deal;
use crm_platform::events::{self, Envelope};
use crm_platform::ids::UserId;
use crm_platform::{ApiError, ApiResult, TenantTx};
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, QuerySelect};
use serde_json::Value;

use super::edit::{definitions, lock_live};

/// Saves `row` with the next version.
async fn stamp(tx: &TenantTx, actor: UserId, mut row: deal::Model) -> ApiResult<deal::Model> {
    row.version += 1;
    row.updated_at = Utc::now();
    row.updated_by = Some(actor.0);
    Ok(row.into_active_model().reset_all().update(&**tx).await?)
}

pub async fn delete_deal(tx: &TenantTx, actor: UserId, id: DealId) -> ApiResult<deal::Model> {
    let mut row = lock_live(tx, id).await?;
    row.deleted_at = Some(Utc::now());
    let saved = stamp(tx, actor, row).await?;
    let event = DealDeleted { deal_id: id, version: saved.version };
    events::enqueue(&**tx, &Envelope::new(tx.tenant(), Some(actor), &event)?).await?;
    Ok(saved)
}

pub async fn restore_deal(tx: &TenantTx, actor: UserId, id: DealId) -> ApiResult<deal::Model> {
    let defs = definitions(tx).await?;
    let mut row = deal::Entity::find_by_id(id.0)
        .lock_exclusive()
        .one(&**tx)
        .await?
        .ok_or(ApiError::NotFound("deal"))?;
    if row.deleted_at.is_none() {
        return Ok(row);
    }
    if let Value::Object(values) = &row.custom_fields {
        defs.ensure_unique(&**tx, values, Some(row.id)).await?;
    }
    row.deleted_at = None;
    let saved = stamp(tx, actor, row).await?;
    let event = DealRestored { deal_id: id, version: saved.version };
    events::enqueue(&**tx, &Envelope::new(tx.tenant(), Some(actor), &event)?).await?;
    Ok(saved)
}
