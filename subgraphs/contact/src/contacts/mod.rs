//! Contacts: one write path for create, update and import (a patch applied to a record), the
//! trash, and batched lookups by id through the cache.

pub mod duplicates;
pub mod list;
pub mod merge;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::Utc;
use crm_entities::custom_fields::{self, Definitions};
use crm_entities::events::contact::{
    ContactCreated, ContactDeleted, ContactRestored, ContactUpdated, changes,
};
use crm_entities::ids::{CompanyId, ContactId};
use crm_entities::tenant::contact::{self, LifecycleStage};
use crm_entities::tenant::custom_field_definition::CustomFieldObject;
use crm_platform::auth::TenantLoader;
use crm_platform::error::is_foreign_key_violation;
use crm_platform::events::{self, Envelope};
use crm_platform::ids::UserId;
use crm_platform::kv::Kv;
use crm_platform::tenancy::RequestReads;
use crm_platform::{ApiError, ApiResult, Caller, TenantId, TenantTx};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QuerySelect};
use serde_json::{Value, json};

use crate::cache;
use crate::records::{check_owner, live_company};

/// A validated change to a contact. `None` keeps a field; `Some(None)` clears it.
#[derive(Clone, Debug, Default)]
pub struct ContactPatch {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<Option<String>>,
    pub additional_emails: Option<Vec<String>>,
    pub phone: Option<Option<String>>,
    pub additional_phones: Option<Vec<String>>,
    pub job_title: Option<Option<String>>,
    pub company: Option<Option<CompanyId>>,
    pub owner: Option<Option<UserId>>,
    pub tags: Option<Vec<String>>,
    pub lifecycle_stage: Option<LifecycleStage>,
    pub source: Option<Option<String>>,
    pub address: Option<Option<Value>>,
    pub notes: Option<Option<String>>,
    /// Custom field values by key; null clears one.
    pub custom_fields: Option<Value>,
}

impl ContactPatch {
    /// Sets the patched fields on `row`; references and custom fields are checked by the caller.
    pub(crate) fn apply_to(self, row: &mut contact::Model) {
        let Self {
            first_name,
            last_name,
            email,
            additional_emails,
            phone,
            additional_phones,
            job_title,
            company,
            owner,
            tags,
            lifecycle_stage,
            source,
            address,
            notes,
            custom_fields: _,
        } = self;
        set(&mut row.first_name, first_name);
        set(&mut row.last_name, last_name);
        set(&mut row.email, email);
        set(&mut row.additional_emails, additional_emails);
        set(&mut row.phone, phone);
        set(&mut row.additional_phones, additional_phones);
        set(&mut row.job_title, job_title);
        set(&mut row.company_id, company.map(|c| c.map(|c| c.0)));
        set(&mut row.owner_id, owner.map(|o| o.map(|o| o.0)));
        set(&mut row.tags, tags);
        set(&mut row.lifecycle_stage, lifecycle_stage);
        set(&mut row.source, source);
        set(&mut row.address, address);
        set(&mut row.notes, notes);
        // The primary email is never repeated among the others.
        if let Some(primary) = &row.email {
            row.additional_emails.retain(|other| other != primary);
        }
        if let Some(primary) = &row.phone {
            row.additional_phones.retain(|other| other != primary);
        }
    }
}

fn set<T>(field: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *field = value;
    }
}

/// A contact with no values yet, owned by nobody.
pub(crate) fn blank(id: ContactId, actor: UserId) -> contact::Model {
    let now = Utc::now();
    contact::Model {
        id: id.0,
        first_name: String::new(),
        last_name: String::new(),
        email: None,
        additional_emails: Vec::new(),
        phone: None,
        additional_phones: Vec::new(),
        job_title: None,
        company_id: None,
        owner_id: None,
        tags: Vec::new(),
        lifecycle_stage: LifecycleStage::Lead,
        source: None,
        address: None,
        notes: None,
        custom_fields: json!({}),
        created_by: Some(actor.0),
        updated_by: Some(actor.0),
        created_at: now,
        updated_at: now,
        deleted_at: None,
        merged_into: None,
        search_text: String::new(),
    }
}

/// Checks what a patch points at and validates its custom fields against `defs`.
pub(crate) async fn prepare(
    tx: &TenantTx,
    defs: &Definitions,
    row: &mut contact::Model,
    patch: ContactPatch,
    creating: bool,
) -> ApiResult<()> {
    if let Some(Some(company)) = patch.company {
        live_company(tx, company, "companyId").await?;
    }
    if let Some(Some(owner)) = patch.owner {
        check_owner(tx, owner).await?;
    }
    let custom = patch.custom_fields.clone().unwrap_or_else(|| json!({}));
    let values = defs.apply_patch(&row.custom_fields, &custom, creating)?;
    defs.ensure_unique(&**tx, &values, Some(row.id)).await?;
    row.custom_fields = Value::Object(values);
    patch.apply_to(row);
    if row.first_name.is_empty() {
        return Err(ApiError::bad_input("firstName", "firstName must not be empty"));
    }
    Ok(())
}

fn reference_error(err: sea_orm::DbErr) -> ApiError {
    if is_foreign_key_violation(&err, "contacts_company_id_fkey") {
        ApiError::bad_input("companyId", "company not found")
    } else {
        err.into()
    }
}

#[tracing::instrument(skip_all, fields(tenant.id = %tx.tenant()))]
pub async fn create_contact(
    tx: &TenantTx,
    defs: &Definitions,
    actor: UserId,
    patch: ContactPatch,
) -> ApiResult<contact::Model> {
    let mut row = blank(ContactId::new(), actor);
    prepare(tx, defs, &mut row, patch, true).await?;
    let model = row.into_active_model().reset_all().insert(&**tx).await.map_err(reference_error)?;
    let event = Envelope::new(tx.tenant(), Some(actor), &ContactCreated { contact_id: ContactId(model.id) })?;
    events::enqueue(&**tx, &event).await?;
    Ok(model)
}

/// A live contact, locked for the rest of the transaction; NOT_FOUND when it is missing or
/// foreign, CONFLICT when it is in the trash.
pub async fn lock_live(tx: &TenantTx, id: ContactId) -> ApiResult<contact::Model> {
    let row = lock(tx, id).await?;
    if row.deleted_at.is_some() {
        return Err(ApiError::Conflict("the contact is in the trash; restore it first".to_owned()));
    }
    Ok(row)
}

async fn lock(tx: &TenantTx, id: ContactId) -> ApiResult<contact::Model> {
    contact::Entity::find_by_id(id.0).lock_exclusive().one(&**tx).await?.ok_or(ApiError::NotFound("contact"))
}

/// Applies `patch` to a live contact; emits `contact.updated` with the changed fields, or
/// nothing when the patch changes nothing.
#[tracing::instrument(skip_all, fields(tenant.id = %tx.tenant()))]
pub async fn update_contact(
    tx: &TenantTx,
    defs: &Definitions,
    actor: UserId,
    id: ContactId,
    patch: ContactPatch,
) -> ApiResult<contact::Model> {
    let before = lock_live(tx, id).await?;
    let mut row = before.clone();
    prepare(tx, defs, &mut row, patch, false).await?;
    save_changes(tx, actor, before, row).await
}

/// Writes `after` when it differs from `before`, with its `contact.updated` event.
pub async fn save_changes(
    tx: &TenantTx,
    actor: UserId,
    before: contact::Model,
    mut after: contact::Model,
) -> ApiResult<contact::Model> {
    let changes = changes(&serde_json::to_value(&before)?, &serde_json::to_value(&after)?);
    if changes.is_empty() {
        return Ok(before);
    }
    after.updated_at = Utc::now();
    after.updated_by = Some(actor.0);
    let model = after.into_active_model().reset_all().update(&**tx).await.map_err(reference_error)?;
    let event = Envelope::new(
        tx.tenant(),
        Some(actor),
        &ContactUpdated { contact_id: ContactId(model.id), changes },
    )?;
    events::enqueue(&**tx, &event).await?;
    Ok(model)
}

/// Moves a contact to the trash. Trashing one already there changes nothing.
pub async fn trash_contact(tx: &TenantTx, actor: UserId, id: ContactId) -> ApiResult<contact::Model> {
    let row = lock(tx, id).await?;
    if row.deleted_at.is_some() {
        return Ok(row);
    }
    let mut active = row.into_active_model();
    active.deleted_at = sea_orm::Set(Some(Utc::now()));
    active.updated_by = sea_orm::Set(Some(actor.0));
    let model = active.update(&**tx).await?;
    let event = Envelope::new(tx.tenant(), Some(actor), &ContactDeleted { contact_id: id })?;
    events::enqueue(&**tx, &event).await?;
    Ok(model)
}

/// Brings a contact back from the trash. A contact merged into another stays merged.
pub async fn restore_contact(tx: &TenantTx, actor: UserId, id: ContactId) -> ApiResult<contact::Model> {
    let row = lock(tx, id).await?;
    if row.deleted_at.is_none() {
        return Ok(row);
    }
    if row.merged_into.is_some() {
        return Err(ApiError::Conflict(
            "this contact was merged into another and cannot be restored".to_owned(),
        ));
    }
    // Another live contact may have taken one of its unique values meanwhile.
    let values = row.custom_fields.as_object().cloned().unwrap_or_default();
    definitions(&**tx).await?.ensure_unique(&**tx, &values, Some(row.id)).await?;
    let mut active = row.into_active_model();
    active.deleted_at = sea_orm::Set(None);
    active.updated_at = sea_orm::Set(Utc::now());
    active.updated_by = sea_orm::Set(Some(actor.0));
    let model = active.update(&**tx).await?;
    let event = Envelope::new(tx.tenant(), Some(actor), &ContactRestored { contact_id: id })?;
    events::enqueue(&**tx, &event).await?;
    Ok(model)
}

/// Drops written contacts from the cache; call after the transaction committed.
pub async fn forget(caller: &Caller, ids: &[ContactId]) {
    cache::forget(caller.kv(), caller.tenant(), ids).await;
}

/// The contact definitions, read under the shared definitions lock so a definition change
/// cannot convert values while this transaction writes ones checked against the old rules.
pub async fn definitions(tx: &impl ConnectionTrait) -> ApiResult<Definitions> {
    crm_platform::tenancy::lock_in_tenant(tx, custom_fields::DEFINITIONS_LOCK, true).await?;
    Ok(Definitions::load(tx, CustomFieldObject::Contact).await?)
}

/// Contacts of the caller's tenant by id (trashed ones too), read through the cache.
pub struct ContactLoader {
    reads: Arc<RequestReads>,
    tenant: TenantId,
    kv: Arc<Kv>,
}

impl TenantLoader for ContactLoader {
    fn new(caller: &Caller) -> Self {
        Self { reads: caller.reads(), tenant: caller.tenant(), kv: Arc::clone(caller.kv()) }
    }
}

impl async_graphql::dataloader::Loader<ContactId> for ContactLoader {
    type Value = contact::Model;
    type Error = async_graphql::Error;

    async fn load(&self, ids: &[ContactId]) -> Result<HashMap<ContactId, contact::Model>, Self::Error> {
        let mut found = cache::get_many(&self.kv, self.tenant, ids).await;
        let missing: Vec<uuid::Uuid> =
            ids.iter().filter(|id| !found.contains_key(id)).map(|id| id.0).collect();
        if missing.is_empty() {
            return Ok(found);
        }
        let rows =
            crm_platform::tenancy::find_by_ids::<contact::Entity>(&self.reads, contact::Column::Id, missing)
                .await
                .map_err(ApiError::from)?;
        cache::put_many(&self.kv, self.tenant, &rows).await;
        found.extend(rows.into_iter().map(|row| (ContactId(row.id), row)));
        Ok(found)
    }
}
