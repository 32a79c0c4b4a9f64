//! Companies: the same patch-based write path as contacts, a unique domain among live
//! companies, a parent hierarchy without cycles, the trash, and batched lookups by id.

pub mod list;

use chrono::Utc;
use crm_entities::custom_fields::{self, Definitions};
use crm_entities::events::contact::{
    CompanyCreated, CompanyDeleted, CompanyRestored, CompanyUpdated, changes,
};
use crm_entities::ids::CompanyId;
use crm_entities::tenant::company;
use crm_entities::tenant::custom_field_definition::CustomFieldObject;
use crm_platform::error::is_unique_violation;
use crm_platform::events::{self, Envelope};
use crm_platform::ids::UserId;
use crm_platform::sql::Sql;
use crm_platform::tenancy::lock_in_tenant;
use crm_platform::{ApiError, ApiResult, TenantTx};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QuerySelect};
use serde_json::{Value, json};

use crate::records::{check_owner, live_company};

/// Parent chains longer than this are refused; real hierarchies are a handful of levels.
pub const MAX_HIERARCHY_DEPTH: usize = 50;

/// A validated change to a company. `None` keeps a field; `Some(None)` clears it.
#[derive(Clone, Debug, Default)]
pub struct CompanyPatch {
    pub name: Option<String>,
    pub domain: Option<Option<String>>,
    pub industry: Option<Option<String>>,
    pub size: Option<Option<i32>>,
    pub website: Option<Option<String>>,
    pub address: Option<Option<Value>>,
    pub owner: Option<Option<UserId>>,
    pub parent: Option<Option<CompanyId>>,
    pub custom_fields: Option<Value>,
}

/// `https://www.Example.com/about` → `example.com`; None when nothing like a host is left.
pub fn normalize_domain(raw: &str) -> Option<String> {
    let lower = raw.trim().to_lowercase();
    let without_scheme = lower.split_once("://").map_or(lower.as_str(), |(_, rest)| rest);
    let host = without_scheme.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h).split(':').next().unwrap_or_default();
    let host = host.strip_prefix("www.").unwrap_or(host).trim_end_matches('.');
    let valid = host.contains('.')
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    valid.then(|| host.to_owned())
}

fn blank(id: CompanyId, actor: UserId) -> company::Model {
    let now = Utc::now();
    company::Model {
        id: id.0,
        name: String::new(),
        domain: None,
        industry: None,
        size: None,
        website: None,
        address: None,
        owner_id: None,
        parent_id: None,
        custom_fields: json!({}),
        created_by: Some(actor.0),
        updated_by: Some(actor.0),
        created_at: now,
        updated_at: now,
        deleted_at: None,
    }
}

async fn prepare(
    tx: &TenantTx,
    defs: &Definitions,
    row: &mut company::Model,
    patch: CompanyPatch,
    creating: bool,
) -> ApiResult<()> {
    if let Some(Some(owner)) = patch.owner {
        check_owner(tx, owner).await?;
    }
    if let Some(Some(parent)) = patch.parent {
        live_company(tx, parent, "parentId").await?;
        refuse_cycle(tx, CompanyId(row.id), parent).await?;
    }
    let custom = patch.custom_fields.clone().unwrap_or_else(|| json!({}));
    let values = defs.apply_patch(&row.custom_fields, &custom, creating)?;
    defs.ensure_unique(&**tx, &values, Some(row.id)).await?;
    row.custom_fields = Value::Object(values);
    let CompanyPatch { name, domain, industry, size, website, address, owner, parent, custom_fields: _ } =
        patch;
    if let Some(name) = name {
        row.name = name;
    }
    let fields = [(&mut row.domain, domain), (&mut row.industry, industry), (&mut row.website, website)];
    for (field, value) in fields {
        if let Some(value) = value {
            *field = value;
        }
    }
    if let Some(size) = size {
        row.size = size;
    }
    if let Some(address) = address {
        row.address = address;
    }
    if let Some(owner) = owner {
        row.owner_id = owner.map(|o| o.0);
    }
    if let Some(parent) = parent {
        row.parent_id = parent.map(|p| p.0);
    }
    if row.name.is_empty() {
        return Err(ApiError::bad_input("name", "name must not be empty"));
    }
    Ok(())
}

/// Refuses to make `parent` the parent of `company` when `company` is `parent` or one of its
/// ancestors. Hierarchy changes of a tenant are serialized, so two concurrent moves cannot
/// close a loop between them.
async fn refuse_cycle(tx: &TenantTx, company: CompanyId, parent: CompanyId) -> ApiResult<()> {
    lock_in_tenant(&**tx, "company-hierarchy", false).await?;
    let chain = ancestor_ids(&**tx, parent).await?;
    if parent == company || chain.contains(&company) {
        return Err(ApiError::bad_input("parentId", "parentId would make the company its own ancestor"));
    }
    if chain.len() + 1 >= MAX_HIERARCHY_DEPTH {
        return Err(ApiError::bad_input(
            "parentId",
            format!("company hierarchies are at most {MAX_HIERARCHY_DEPTH} levels deep"),
        ));
    }
    Ok(())
}

/// The parent, grandparent… of `company`, nearest first (live or trashed), bounded in depth.
pub async fn ancestor_ids(tx: &impl ConnectionTrait, company: CompanyId) -> ApiResult<Vec<CompanyId>> {
    let mut sql = Sql::new(
        "WITH RECURSIVE chain(id, parent_id, depth) AS (
             SELECT id, parent_id, 0 FROM companies WHERE id = ",
    );
    sql.bind(company.0).push(&format!(
        " UNION ALL
             SELECT co.id, co.parent_id, chain.depth + 1 FROM companies co
             JOIN chain ON co.id = chain.parent_id WHERE chain.depth < {MAX_HIERARCHY_DEPTH}
         )
         SELECT id FROM chain WHERE depth > 0 ORDER BY depth"
    ));
    let rows = tx.query_all(sql.statement()).await?;
    rows.iter().map(|row| Ok(CompanyId(row.try_get("", "id")?))).collect()
}

fn write_error(err: sea_orm::DbErr) -> ApiError {
    if is_unique_violation(&err, "companies_domain_key") {
        ApiError::Conflict("another company already has this domain".to_owned())
    } else {
        err.into()
    }
}

#[tracing::instrument(skip_all, fields(tenant.id = %tx.tenant()))]
pub async fn create_company(
    tx: &TenantTx,
    defs: &Definitions,
    actor: UserId,
    patch: CompanyPatch,
) -> ApiResult<company::Model> {
    let mut row = blank(CompanyId::new(), actor);
    prepare(tx, defs, &mut row, patch, true).await?;
    let model = row.into_active_model().reset_all().insert(&**tx).await.map_err(write_error)?;
    let event = Envelope::new(tx.tenant(), Some(actor), &CompanyCreated { company_id: CompanyId(model.id) })?;
    events::enqueue(&**tx, &event).await?;
    Ok(model)
}

async fn lock(tx: &TenantTx, id: CompanyId) -> ApiResult<company::Model> {
    company::Entity::find_by_id(id.0).lock_exclusive().one(&**tx).await?.ok_or(ApiError::NotFound("company"))
}

#[tracing::instrument(skip_all, fields(tenant.id = %tx.tenant()))]
pub async fn update_company(
    tx: &TenantTx,
    defs: &Definitions,
    actor: UserId,
    id: CompanyId,
    patch: CompanyPatch,
) -> ApiResult<company::Model> {
    let before = lock(tx, id).await?;
    if before.deleted_at.is_some() {
        return Err(ApiError::Conflict("the company is in the trash; restore it first".to_owned()));
    }
    let mut after = before.clone();
    prepare(tx, defs, &mut after, patch, false).await?;
    let changes = changes(&serde_json::to_value(&before)?, &serde_json::to_value(&after)?);
    if changes.is_empty() {
        return Ok(before);
    }
    after.updated_at = Utc::now();
    after.updated_by = Some(actor.0);
    let model = after.into_active_model().reset_all().update(&**tx).await.map_err(write_error)?;
    let event = Envelope::new(tx.tenant(), Some(actor), &CompanyUpdated { company_id: id, changes })?;
    events::enqueue(&**tx, &event).await?;
    Ok(model)
}

/// Moves a company to the trash. Its contacts keep pointing at it (and show it as trashed);
/// its children keep it as their parent.
pub async fn trash_company(tx: &TenantTx, actor: UserId, id: CompanyId) -> ApiResult<company::Model> {
    let row = lock(tx, id).await?;
    if row.deleted_at.is_some() {
        return Ok(row);
    }
    let mut active = row.into_active_model();
    active.deleted_at = sea_orm::Set(Some(Utc::now()));
    active.updated_by = sea_orm::Set(Some(actor.0));
    let model = active.update(&**tx).await?;
    let event = Envelope::new(tx.tenant(), Some(actor), &CompanyDeleted { company_id: id })?;
    events::enqueue(&**tx, &event).await?;
    Ok(model)
}

/// Brings a company back; CONFLICT when a live company took its domain or a unique value
/// meanwhile.
pub async fn restore_company(tx: &TenantTx, actor: UserId, id: CompanyId) -> ApiResult<company::Model> {
    let row = lock(tx, id).await?;
    if row.deleted_at.is_none() {
        return Ok(row);
    }
    let defs = definitions(&**tx).await?;
    let values = row.custom_fields.as_object().cloned().unwrap_or_default();
    defs.ensure_unique(&**tx, &values, Some(row.id)).await?;
    let mut active = row.into_active_model();
    active.deleted_at = sea_orm::Set(None);
    active.updated_at = sea_orm::Set(Utc::now());
    active.updated_by = sea_orm::Set(Some(actor.0));
    let model = active.update(&**tx).await.map_err(write_error)?;
    let event = Envelope::new(tx.tenant(), Some(actor), &CompanyRestored { company_id: id })?;
    events::enqueue(&**tx, &event).await?;
    Ok(model)
}

/// The company definitions, read under the shared definitions lock so a definition change
/// cannot convert values while this transaction writes ones checked against the old rules.
pub async fn definitions(tx: &impl ConnectionTrait) -> ApiResult<Definitions> {
    lock_in_tenant(tx, custom_fields::DEFINITIONS_LOCK, true).await?;
    Ok(Definitions::load(tx, CustomFieldObject::Company).await?)
}

crm_platform::id_loader!(
    /// Companies of the caller's tenant by id (trashed ones too).
    CompanyLoader,
    CompanyId,
    company
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_normalized_to_the_host() {
        let cases = [
            ("Example.COM", Some("example.com")),
            ("https://www.example.com/about?x=1", Some("example.com")),
            ("http://user@shop.example.co.uk:8080/", Some("shop.example.co.uk")),
            ("localhost", None),
            ("exa mple.com", None),
            ("", None),
            ("-bad.com", None),
        ];
        for (raw, expected) in cases {
            assert_eq!(normalize_domain(raw).as_deref(), expected, "{raw}");
        }
    }
}
