//! Merging duplicates into one primary contact. The primary keeps its values and gains what it
//! lacks from the others (in the order given); emails, phones and tags are united, notes
//! appended. The others go to the trash marked `merged_into`, and `contact.merged` lets the deal
//! and communication subgraphs move their links and activities to the primary.

use chrono::Utc;
use crm_entities::events::contact::{Changes, ContactsMerged, changes};
use crm_entities::ids::ContactId;
use crm_entities::tenant::contact;
use crm_platform::events::{self, Envelope};
use crm_platform::ids::UserId;
use crm_platform::{ApiError, ApiResult, TenantTx};
use sea_orm::{ActiveModelTrait, IntoActiveModel};
use serde_json::Value;

use super::{lock_live, save_changes};

pub const MAX_MERGED: usize = 20;

pub struct Merge {
    /// The primary as it is (or, in a dry run, would be) after the merge.
    pub primary: contact::Model,
    pub merged: Vec<ContactId>,
    /// What changed on the primary.
    pub changes: Changes,
}

fn check(primary: ContactId, others: &[ContactId]) -> ApiResult<()> {
    if others.is_empty() || others.len() > MAX_MERGED {
        return Err(ApiError::bad_input(
            "otherIds",
            format!("otherIds must name 1 to {MAX_MERGED} contacts"),
        ));
    }
    if others.contains(&primary) {
        return Err(ApiError::bad_input("otherIds", "otherIds must not contain primaryId"));
    }
    let mut sorted = others.to_vec();
    sorted.sort();
    sorted.dedup();
    if sorted.len() != others.len() {
        return Err(ApiError::bad_input("otherIds", "otherIds names a contact twice"));
    }
    Ok(())
}

/// `primary` with the gaps filled from `others`.
pub fn combine(primary: &contact::Model, others: &[contact::Model]) -> contact::Model {
    let mut merged = primary.clone();
    for other in others {
        fill(&mut merged.email, &other.email);
        fill(&mut merged.phone, &other.phone);
        fill(&mut merged.job_title, &other.job_title);
        fill(&mut merged.company_id, &other.company_id);
        fill(&mut merged.owner_id, &other.owner_id);
        fill(&mut merged.source, &other.source);
        fill(&mut merged.address, &other.address);
        if merged.last_name.is_empty() {
            merged.last_name.clone_from(&other.last_name);
        }
        let other_emails = other.email.iter().chain(&other.additional_emails);
        unite(&mut merged.additional_emails, other_emails, merged.email.as_ref());
        let other_phones = other.phone.iter().chain(&other.additional_phones);
        unite(&mut merged.additional_phones, other_phones, merged.phone.as_ref());
        unite(&mut merged.tags, other.tags.iter(), None);
        merged.notes = match (merged.notes.take(), &other.notes) {
            (Some(mine), Some(theirs)) if !mine.contains(theirs.as_str()) => {
                Some(format!("{mine}\n\n{theirs}"))
            }
            (Some(mine), _) => Some(mine),
            (None, theirs) => theirs.clone(),
        };
        if let (Value::Object(mine), Value::Object(theirs)) =
            (&mut merged.custom_fields, &other.custom_fields)
        {
            for (key, value) in theirs {
                mine.entry(key.clone()).or_insert_with(|| value.clone());
            }
        }
    }
    merged
}

fn fill<T: Clone>(mine: &mut Option<T>, theirs: &Option<T>) {
    if mine.is_none() {
        mine.clone_from(theirs);
    }
}

fn unite<'a>(mine: &mut Vec<String>, theirs: impl Iterator<Item = &'a String>, primary: Option<&String>) {
    for value in theirs {
        if Some(value) != primary && !mine.contains(value) {
            mine.push(value.clone());
        }
    }
}

#[tracing::instrument(skip_all, fields(tenant.id = %tx.tenant()))]
pub async fn merge_contacts(
    tx: &TenantTx,
    actor: UserId,
    primary: ContactId,
    others: &[ContactId],
    dry_run: bool,
) -> ApiResult<Merge> {
    check(primary, others)?;
    // Locks in id order, so two merges over the same contacts cannot deadlock.
    let mut all: Vec<ContactId> = others.iter().copied().chain([primary]).collect();
    all.sort();
    let mut locked = Vec::with_capacity(all.len());
    for id in all {
        locked.push(lock_live(tx, id).await?);
    }
    let before =
        locked.iter().find(|row| row.id == primary.0).cloned().ok_or(ApiError::NotFound("contact"))?;
    let rows: Vec<contact::Model> =
        others.iter().filter_map(|id| locked.iter().find(|row| row.id == id.0).cloned()).collect();
    let combined = combine(&before, &rows);
    let changes = changes(&serde_json::to_value(&before)?, &serde_json::to_value(&combined)?);
    if dry_run {
        return Ok(Merge { primary: combined, merged: others.to_vec(), changes });
    }
    let now = Utc::now();
    for row in rows {
        let mut active = row.into_active_model();
        active.deleted_at = sea_orm::Set(Some(now));
        active.merged_into = sea_orm::Set(Some(primary.0));
        active.updated_by = sea_orm::Set(Some(actor.0));
        active.update(&**tx).await?;
    }
    let primary_row = save_changes(tx, actor, before, combined).await?;
    let event = Envelope::new(
        tx.tenant(),
        Some(actor),
        &ContactsMerged { primary_id: primary, merged_ids: others.to_vec() },
    )?;
    events::enqueue(&**tx, &event).await?;
    Ok(Merge { primary: primary_row, merged: others.to_vec(), changes })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact(first: &str, email: Option<&str>) -> contact::Model {
        let mut row = super::super::blank(ContactId::new(), UserId::new());
        row.first_name = first.to_owned();
        row.email = email.map(str::to_owned);
        row
    }

    #[test]
    fn the_primary_keeps_its_values_and_gains_the_others() {
        let mut primary = contact("Ann", Some("ann@a.example"));
        primary.tags = vec!["vip".into()];
        primary.custom_fields = serde_json::json!({"tier": "gold"});
        let mut other = contact("Anne", Some("ann@b.example"));
        other.job_title = Some("CTO".into());
        other.additional_emails = vec!["ann@a.example".into()];
        other.tags = vec!["vip".into(), "eu".into()];
        other.custom_fields = serde_json::json!({"tier": "silver", "region": "EU"});
        let merged = combine(&primary, &[other]);
        assert_eq!(merged.first_name, "Ann");
        assert_eq!(merged.email.as_deref(), Some("ann@a.example"));
        assert_eq!(merged.additional_emails, ["ann@b.example"]);
        assert_eq!(merged.job_title.as_deref(), Some("CTO"));
        assert_eq!(merged.tags, ["vip", "eu"]);
        assert_eq!(merged.custom_fields, serde_json::json!({"tier": "gold", "region": "EU"}));
    }

    #[test]
    fn bad_merge_requests_are_refused() {
        let a = ContactId::new();
        assert!(check(a, &[]).is_err());
        assert!(check(a, &[a]).is_err());
        let b = ContactId::new();
        assert!(check(a, &[b, b]).is_err());
        assert!(check(a, &[b]).is_ok());
    }
}
