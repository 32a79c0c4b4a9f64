//! Events of the contact subgraph. Updates carry each changed field's previous and new value, so
//! a consumer (or a customer's integration) never has to ask what a record looked like before.

use std::collections::BTreeMap;

use crm_platform::events::DomainEvent;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ids::{CompanyId, ContactId};

/// One field's value before and after a change; `null` stands for "no value".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    pub previous: Value,
    pub new: Value,
}

/// Changed fields by name (`job_title`, `custom_fields.budget`…).
pub type Changes = BTreeMap<String, FieldChange>;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ContactCreated {
    pub contact_id: ContactId,
}

impl DomainEvent for ContactCreated {
    const TYPE: &'static str = "contact.created";
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ContactUpdated {
    pub contact_id: ContactId,
    pub changes: Changes,
}

impl DomainEvent for ContactUpdated {
    const TYPE: &'static str = "contact.updated";
}

/// Moved to the trash; purged after the retention period unless restored.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ContactDeleted {
    pub contact_id: ContactId,
}

impl DomainEvent for ContactDeleted {
    const TYPE: &'static str = "contact.deleted";
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ContactRestored {
    pub contact_id: ContactId,
}

impl DomainEvent for ContactRestored {
    const TYPE: &'static str = "contact.restored";
}

/// `merged_ids` were merged into `primary_id` and trashed; whatever pointed at them (deal
/// contacts, activities) now points at the primary.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ContactsMerged {
    pub primary_id: ContactId,
    pub merged_ids: Vec<ContactId>,
}

impl DomainEvent for ContactsMerged {
    const TYPE: &'static str = "contact.merged";
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CompanyCreated {
    pub company_id: CompanyId,
}

impl DomainEvent for CompanyCreated {
    const TYPE: &'static str = "company.created";
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CompanyUpdated {
    pub company_id: CompanyId,
    pub changes: Changes,
}

impl DomainEvent for CompanyUpdated {
    const TYPE: &'static str = "company.updated";
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CompanyDeleted {
    pub company_id: CompanyId,
}

impl DomainEvent for CompanyDeleted {
    const TYPE: &'static str = "company.deleted";
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CompanyRestored {
    pub company_id: CompanyId,
}

impl DomainEvent for CompanyRestored {
    const TYPE: &'static str = "company.restored";
}

/// The fields that differ between two serialized records, custom fields one by one. Bookkeeping
/// columns (`updated_at`, `updated_by`) are not changes of their own.
pub fn changes(before: &Value, after: &Value) -> Changes {
    const IGNORED: [&str; 3] = ["updated_at", "updated_by", "search_text"];
    let empty = serde_json::Map::new();
    let (before, after) = (before.as_object().unwrap_or(&empty), after.as_object().unwrap_or(&empty));
    let mut out = Changes::new();
    let keys: std::collections::BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    for key in keys {
        if IGNORED.contains(&key.as_str()) {
            continue;
        }
        let (old, new) = (before.get(key).unwrap_or(&Value::Null), after.get(key).unwrap_or(&Value::Null));
        if key == "custom_fields" {
            let inner = changes(old, new);
            out.extend(inner.into_iter().map(|(k, change)| (format!("custom_fields.{k}"), change)));
        } else if old != new {
            out.insert(key.clone(), FieldChange { previous: old.clone(), new: new.clone() });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn changes_name_each_field_and_custom_field() {
        let before = json!({"job_title": "CTO", "tags": ["a"], "updated_at": 1,
            "custom_fields": {"budget": 10, "tier": "gold"}});
        let after = json!({"job_title": null, "tags": ["a"], "updated_at": 2,
            "custom_fields": {"budget": 20, "region": "EU", "tier": "gold"}});
        let got = changes(&before, &after);
        let names: Vec<&str> = got.keys().map(String::as_str).collect();
        assert_eq!(names, ["custom_fields.budget", "custom_fields.region", "job_title"]);
        assert_eq!(got["job_title"], FieldChange { previous: json!("CTO"), new: Value::Null });
        assert_eq!(got["custom_fields.region"].previous, Value::Null);
    }
}
