//! Create-or-update by email or phone: what integrations and imports call so that sending the
//! same person twice never makes two contacts.

use crm_entities::custom_fields::Definitions;
use crm_entities::tenant::contact;
use crm_platform::ids::UserId;
use crm_platform::sql::{Sql, columns};
use crm_platform::{ApiResult, TenantTx};
use sea_orm::EntityTrait;

use crate::contacts::{ContactPatch, create_contact, lock_live, save_changes};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContactMatch {
    Email,
    Phone,
}

/// The keys a patch would be matched on: emails, or phone digits.
fn keys(patch: &ContactPatch, match_on: ContactMatch) -> Vec<String> {
    let mut keys: Vec<String> = match match_on {
        ContactMatch::Email => {
            patch.email.iter().flatten().chain(patch.additional_emails.iter().flatten()).cloned().collect()
        }
        ContactMatch::Phone => patch
            .phone
            .iter()
            .flatten()
            .chain(patch.additional_phones.iter().flatten())
            .map(|p| p.chars().filter(char::is_ascii_digit).collect::<String>())
            .filter(|d| d.len() >= 7)
            .collect(),
    };
    keys.sort();
    keys.dedup();
    keys
}

/// The oldest live contact holding one of `keys`.
pub async fn find_match(
    tx: &TenantTx,
    keys: &[String],
    match_on: ContactMatch,
) -> ApiResult<Option<contact::Model>> {
    if keys.is_empty() {
        return Ok(None);
    }
    let mut sql = Sql::new(&format!(
        "SELECT {} FROM contacts WHERE deleted_at IS NULL AND ",
        columns::<contact::Entity>("")
    ));
    match match_on {
        ContactMatch::Email => {
            sql.push("(email = ANY(").bind_as(keys.to_vec(), "text[]");
            sql.push(") OR additional_emails && ").bind_as(keys.to_vec(), "text[]").push(")");
        }
        ContactMatch::Phone => {
            sql.push("phone_digits && ").bind_as(keys.to_vec(), "text[]");
        }
    }
    sql.push(" ORDER BY created_at, id LIMIT 1");
    Ok(contact::Entity::find().from_raw_sql(sql.statement()).one(&**tx).await?)
}

/// Serializes upserts of the same keys, so two at once cannot both create.
pub async fn lock_keys(tx: &TenantTx, keys: &[String]) -> ApiResult<()> {
    for key in keys {
        crm_platform::tenancy::lock_in_tenant(&**tx, &format!("contact-match:{key}"), false).await?;
    }
    Ok(())
}

/// Applies `update` to the matching contact, or creates one from `create`. True when created.
pub async fn upsert_contact(
    tx: &TenantTx,
    defs: &Definitions,
    actor: UserId,
    create: ContactPatch,
    update: ContactPatch,
    match_on: ContactMatch,
) -> ApiResult<(contact::Model, bool)> {
    let keys = keys(&create, match_on);
    lock_keys(tx, &keys).await?;
    match find_match(tx, &keys, match_on).await? {
        Some(found) => {
            let before = lock_live(tx, crm_entities::ids::ContactId(found.id)).await?;
            let mut after = before.clone();
            crate::contacts::prepare(tx, defs, &mut after, update, false).await?;
            Ok((save_changes(tx, actor, before, after).await?, false))
        }
        None => Ok((create_contact(tx, defs, actor, create).await?, true)),
    }
}
