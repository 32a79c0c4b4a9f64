//! Contacts: creation (with its `contact.created` event), pages, and batched lookups by id.

use chrono::Utc;
use crm_entities::events::contact::ContactCreated;
use crm_entities::ids::{CompanyId, ContactId};
use crm_entities::tenant::contact;
use crm_platform::error::{is_foreign_key_violation, is_unique_violation};
use crm_platform::events::{self, Envelope};
use crm_platform::ids::UserId;
use crm_platform::pagination::{PageRequest, split_page};
use crm_platform::text::EmailAddress;
use crm_platform::{ApiError, ApiResult, TenantTx};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde_json::json;

const MAX_CUSTOM_FIELDS: usize = 100;
const MAX_CUSTOM_FIELDS_BYTES: usize = 16 * 1024;

/// A validated new contact.
pub struct NewContact {
    pub first_name: String,
    pub last_name: String,
    pub email: Option<EmailAddress>,
    pub phone: Option<String>,
    pub company: Option<CompanyId>,
    pub custom_fields: serde_json::Value,
}

/// Custom fields are a flat JSON object of bounded size.
pub fn check_custom_fields(value: Option<serde_json::Value>) -> ApiResult<serde_json::Value> {
    let value = value.unwrap_or_else(|| json!({}));
    let Some(object) = value.as_object() else {
        return Err(ApiError::bad_input("customFields", "customFields must be a JSON object"));
    };
    if object.len() > MAX_CUSTOM_FIELDS || value.to_string().len() > MAX_CUSTOM_FIELDS_BYTES {
        return Err(ApiError::bad_input(
            "customFields",
            format!(
                "customFields allows at most {MAX_CUSTOM_FIELDS} keys and {MAX_CUSTOM_FIELDS_BYTES} bytes"
            ),
        ));
    }
    if value.to_string().contains("\\u0000") {
        return Err(ApiError::bad_input("customFields", "customFields contains a NUL character"));
    }
    Ok(value)
}

#[tracing::instrument(skip_all, fields(tenant.id = %tx.tenant()))]
pub async fn create_contact(tx: &TenantTx, actor: UserId, new: NewContact) -> ApiResult<contact::Model> {
    let now = Utc::now();
    let model = contact::ActiveModel {
        id: Set(ContactId::new().0),
        first_name: Set(new.first_name),
        last_name: Set(new.last_name),
        email: Set(new.email.map(EmailAddress::into_string)),
        phone: Set(new.phone),
        company_id: Set(new.company.map(|c| c.0)),
        custom_fields: Set(new.custom_fields),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&**tx)
    .await
    .map_err(|err| {
        if is_foreign_key_violation(&err, "contacts_company_id_fkey") {
            ApiError::bad_input("companyId", "company not found")
        } else if is_unique_violation(&err, "contacts_email_key") {
            ApiError::Conflict("a contact with this email already exists".to_owned())
        } else {
            err.into()
        }
    })?;
    let event = Envelope::new(tx.tenant(), Some(actor), &ContactCreated { contact_id: ContactId(model.id) })?;
    events::enqueue(&**tx, &event).await?;
    Ok(model)
}

/// Newest first.
pub async fn list_contacts(tx: &TenantTx, page: &PageRequest) -> ApiResult<(Vec<contact::Model>, bool)> {
    let mut query = contact::Entity::find().order_by_desc(contact::Column::Id).limit(page.fetch_limit());
    if let Some(after) = page.after {
        query = query.filter(contact::Column::Id.lt(after));
    }
    Ok(split_page(query.all(&**tx).await?, page))
}

crm_platform::id_loader!(
    /// Contacts of the caller's tenant by id.
    ContactLoader,
    ContactId,
    contact
);
