//! Editing a deal: partial updates of its fields and custom fields, and its contacts with their
//! roles. Every change raises the deal's version and emits `deal.updated` with the previous and
//! new value of each changed field; a change that changes nothing emits nothing.

use chrono::{NaiveDate, Utc};
use crm_entities::custom_fields::{self, Definitions};
use crm_entities::events::contact::{Changes, FieldChange, changes};
use crm_entities::events::deal::DealUpdated;
use crm_entities::global::member;
use crm_entities::ids::{CompanyId, ContactId, DealId};
use crm_entities::tenant::custom_field_definition::CustomFieldObject;
use crm_entities::tenant::{deal, deal_contact};
use crm_platform::events::{self, Envelope};
use crm_platform::ids::UserId;
use crm_platform::tenancy::lock_in_tenant;
use crm_platform::{ApiError, ApiResult, TenantTx, text};
use rust_decimal::Decimal;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter};
use serde_json::{Value, json};

use super::{check_amount, parse_currency, reference_error};

/// What `updateDeal` changes: an absent field is kept, `Some(None)` clears it.
#[derive(Default)]
pub struct DealPatch {
    pub title: Option<String>,
    pub amount: Option<Option<Decimal>>,
    pub currency: Option<String>,
    pub expected_close_date: Option<Option<NaiveDate>>,
    /// `Some(None)`: back to the stage's default.
    pub probability: Option<Option<i32>>,
    pub owner: Option<Option<UserId>>,
    pub company: Option<Option<CompanyId>>,
    /// Only the keys given; `null` clears one.
    pub custom_fields: Option<Value>,
}

/// The deal definitions, read under the shared definitions lock so a definition change cannot
/// convert values while this transaction writes ones checked against the old rules.
pub async fn definitions(tx: &TenantTx) -> ApiResult<Definitions> {
    lock_in_tenant(&**tx, custom_fields::DEFINITIONS_LOCK, true).await?;
    Ok(Definitions::load(&**tx, CustomFieldObject::Deal).await?)
}

pub fn check_probability(probability: Option<i32>) -> ApiResult<Option<i32>> {
    match probability {
        Some(p) if !(0..=100).contains(&p) => {
            Err(ApiError::bad_input("probability", "probability is a percentage, 0 to 100"))
        }
        other => Ok(other),
    }
}

/// Checks the patch and writes it onto `row`; custom fields are validated against `defs`.
pub async fn apply(
    tx: &TenantTx,
    defs: &Definitions,
    row: &mut deal::Model,
    patch: DealPatch,
    creating: bool,
) -> ApiResult<()> {
    if let Some(title) = &patch.title {
        row.title = text::required("title", title, 200)?;
    }
    if let Some(amount) = patch.amount {
        row.amount = check_amount(amount)?;
    }
    if let Some(currency) = &patch.currency {
        row.currency = parse_currency(currency)?;
    }
    if let Some(date) = patch.expected_close_date {
        row.expected_close_date = date;
    }
    if let Some(probability) = patch.probability {
        row.probability = check_probability(probability)?;
    }
    if let Some(owner) = patch.owner {
        if let Some(owner) = owner {
            member::check_owner(&**tx, tx.tenant(), owner.0).await?;
        }
        row.owner_id = owner.map(|o| o.0);
    }
    if let Some(company) = patch.company {
        row.company_id = company.map(|c| c.0);
    }
    let given = patch.custom_fields.unwrap_or_else(|| json!({}));
    let values = defs.apply_patch(&row.custom_fields, &given, creating)?;
    defs.ensure_unique(&**tx, &values, Some(row.id)).await?;
    row.custom_fields = Value::Object(values);
    Ok(())
}

/// A live deal of the tenant, locked for the transaction.
pub async fn lock_live(tx: &TenantTx, id: DealId) -> ApiResult<deal::Model> {
    use sea_orm::QuerySelect;
    deal::Entity::find_by_id(id.0)
        .lock_exclusive()
        .one(&**tx)
        .await?
        .filter(|d| d.deleted_at.is_none())
        .ok_or(ApiError::NotFound("deal"))
}

/// Saves `after` over `before` with the next version and emits `deal.updated` with `extra`
/// changes (contacts) besides the fields'; returns `before` when nothing changed.
pub async fn save(
    tx: &TenantTx,
    actor: UserId,
    before: deal::Model,
    mut after: deal::Model,
    extra: Changes,
) -> ApiResult<deal::Model> {
    let mut changed = changes(&serde_json::to_value(&before)?, &serde_json::to_value(&after)?);
    changed.extend(extra);
    if changed.is_empty() {
        return Ok(before);
    }
    after.version = before.version + 1;
    after.updated_at = Utc::now();
    after.updated_by = Some(actor.0);
    let saved = after
        .into_active_model()
        .reset_all()
        .update(&**tx)
        .await
        .map_err(|err| reference_error(err, "deals_company_id_fkey", "companyId", "company not found"))?;
    let event = DealUpdated { deal_id: DealId(saved.id), version: saved.version, changes: changed };
    events::enqueue(&**tx, &Envelope::new(tx.tenant(), Some(actor), &event)?).await?;
    Ok(saved)
}

#[tracing::instrument(skip_all, fields(tenant.id = %tx.tenant(), deal.id = %id))]
pub async fn update_deal(
    tx: &TenantTx,
    actor: UserId,
    id: DealId,
    patch: DealPatch,
) -> ApiResult<deal::Model> {
    let defs = definitions(tx).await?;
    let before = lock_live(tx, id).await?;
    let mut after = before.clone();
    apply(tx, &defs, &mut after, patch, false).await?;
    save(tx, actor, before, after, Changes::new()).await
}

/// The role text of a deal contact: trimmed, at most 100 characters, none when blank.
fn check_role(role: Option<&str>) -> ApiResult<Option<String>> {
    text::optional("role", role, 100)
}

/// Links a contact to the deal with `role`, or changes the role of a linked one.
pub async fn add_contact(
    tx: &TenantTx,
    actor: UserId,
    id: DealId,
    contact: ContactId,
    role: Option<&str>,
) -> ApiResult<deal::Model> {
    let role = check_role(role)?;
    let before = lock_live(tx, id).await?;
    let existing = deal_contact::Entity::find_by_id((id.0, contact.0)).one(&**tx).await?;
    let previous = match &existing {
        Some(link) if link.role == role => return Ok(before),
        Some(link) => json!({ "contact_id": contact, "role": link.role }),
        None => Value::Null,
    };
    let mut sql = crm_platform::sql::Sql::new(
        "INSERT INTO deal_contacts (deal_id, contact_id, role, created_at) SELECT ",
    );
    sql.bind(id.0)
        .push(", c.id, ")
        .bind(role.clone())
        .push(", now() FROM contacts c WHERE c.deleted_at IS NULL AND c.id = ");
    sql.bind(contact.0).push(" ON CONFLICT (deal_id, contact_id) DO UPDATE SET role = EXCLUDED.role");
    if tx.execute(sql.statement()).await?.rows_affected() == 0 {
        return Err(ApiError::bad_input("contactId", "contact not found"));
    }
    let change = FieldChange { previous, new: json!({ "contact_id": contact, "role": role }) };
    let after = before.clone();
    save(tx, actor, before, after, Changes::from([("contacts".to_owned(), change)])).await
}

/// Unlinks a contact from the deal; unlinking one that is not linked changes nothing.
pub async fn remove_contact(
    tx: &TenantTx,
    actor: UserId,
    id: DealId,
    contact: ContactId,
) -> ApiResult<deal::Model> {
    let before = lock_live(tx, id).await?;
    let removed = deal_contact::Entity::delete_many()
        .filter(deal_contact::Column::DealId.eq(id.0))
        .filter(deal_contact::Column::ContactId.eq(contact.0))
        .exec_with_returning(&**tx)
        .await?;
    let Some(link) = removed.into_iter().next() else { return Ok(before) };
    let change =
        FieldChange { previous: json!({ "contact_id": contact, "role": link.role }), new: Value::Null };
    let after = before.clone();
    save(tx, actor, before, after, Changes::from([("contacts".to_owned(), change)])).await
}
