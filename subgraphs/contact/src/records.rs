//! Checks shared by contact and company writes: what a record may point at.

use crm_entities::global::member;
use crm_entities::ids::CompanyId;
use crm_entities::tenant::company;
use crm_platform::ids::UserId;
use crm_platform::text;
use crm_platform::{ApiError, ApiResult, TenantTx};
use sea_orm::EntityTrait;

/// An owner must be a member of the organization.
pub async fn check_owner(tx: &TenantTx, owner: UserId) -> ApiResult<()> {
    member::check_owner(&**tx, tx.tenant(), owner.0).await
}

/// A company that exists in the caller's tenant and is not in the trash; `field` names the input.
pub async fn live_company(tx: &TenantTx, id: CompanyId, field: &'static str) -> ApiResult<company::Model> {
    match company::Entity::find_by_id(id.0).one(&**tx).await? {
        Some(row) if row.deleted_at.is_none() => Ok(row),
        Some(_) => Err(ApiError::bad_input(field, format!("{field} names a company in the trash"))),
        None => Err(ApiError::bad_input(field, "company not found")),
    }
}

const MAX_TAGS: usize = 50;

/// A phone number: digits, spaces and `+-().`, at least three digits.
pub fn phone(field: &'static str, raw: &str) -> ApiResult<Option<String>> {
    let Some(value) = text::optional(field, Some(raw), 40)? else { return Ok(None) };
    let digits = value.chars().filter(char::is_ascii_digit).count();
    if digits < 3 || !value.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c)) {
        return Err(ApiError::bad_input(field, format!("{field} is not a phone number")));
    }
    Ok(Some(value))
}

/// Labels: trimmed, lowercase, unique, at most 50 of 50 characters.
pub fn tags(raw: &[String]) -> ApiResult<Vec<String>> {
    if raw.len() > MAX_TAGS {
        return Err(ApiError::bad_input("tags", format!("tags allows at most {MAX_TAGS} labels")));
    }
    let mut out: Vec<String> = Vec::new();
    for item in raw {
        if let Some(tag) = text::optional("tags", Some(item), 50)?.map(|t| t.to_lowercase())
            && !out.contains(&tag)
        {
            out.push(tag);
        }
    }
    Ok(out)
}
