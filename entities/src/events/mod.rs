//! The event catalogue: one typed payload per event type, declared by the domain that emits it
//! (`identity` for auth, `tenancy`, `contact`, `deal`, `communication`). Envelopes are built only
//! from these types, and `docs/events.md` describes each one; a test holds the three together.

pub mod communication;
pub mod contact;
pub mod deal;
pub mod identity;
pub mod tenancy;

use crm_platform::events::{DomainEvent, payload_fields};

/// One event type as the catalogue lists it.
#[derive(Debug)]
pub struct CatalogueEntry {
    pub event_type: &'static str,
    /// Payload field names as they appear in JSON.
    pub fields: &'static [&'static str],
}

fn entry<E: DomainEvent>() -> CatalogueEntry {
    CatalogueEntry { event_type: E::TYPE, fields: payload_fields::<E>() }
}

/// Every event type the product emits.
pub fn catalogue() -> Vec<CatalogueEntry> {
    vec![
        entry::<identity::UserLoggedIn>(),
        entry::<identity::PasswordResetRequested>(),
        entry::<identity::PasswordReset>(),
        entry::<tenancy::TenantCreated>(),
        entry::<tenancy::UserCreated>(),
        entry::<tenancy::TenantDeleted>(),
        entry::<tenancy::UserInvited>(),
        entry::<tenancy::UserJoined>(),
        entry::<contact::ContactCreated>(),
        entry::<contact::ContactUpdated>(),
        entry::<contact::ContactDeleted>(),
        entry::<contact::ContactRestored>(),
        entry::<contact::ContactsMerged>(),
        entry::<contact::CompanyCreated>(),
        entry::<contact::CompanyUpdated>(),
        entry::<contact::CompanyDeleted>(),
        entry::<contact::CompanyRestored>(),
        entry::<deal::DealCreated>(),
        entry::<deal::DealUpdated>(),
        entry::<deal::DealDeleted>(),
        entry::<deal::DealRestored>(),
        entry::<deal::StageChanged>(),
        entry::<deal::ClosedWon>(),
        entry::<deal::ClosedLost>(),
        entry::<deal::Reopened>(),
        entry::<deal::PipelineUpdated>(),
        entry::<communication::ActivityLogged>(),
        entry::<communication::ActivityUpdated>(),
        entry::<communication::ActivityDeleted>(),
        entry::<communication::TaskCreated>(),
        entry::<communication::TaskCompleted>(),
        entry::<communication::TaskReminderDue>(),
        entry::<communication::EmailQueued>(),
        entry::<communication::EmailSent>(),
        entry::<communication::EmailFailed>(),
        entry::<communication::EmailOpened>(),
        entry::<communication::EmailClicked>(),
    ]
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};

    use super::*;

    fn workspace_root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
    }

    /// Every `const TYPE: &'static str = "…"` in the workspace's Rust sources: what code can put
    /// in an envelope. Types under `test.` are fixtures of unit tests.
    fn declared_in_code(dir: &Path, found: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                if !name.starts_with('.') && name != "target" && name != "node_modules" {
                    declared_in_code(&path, found);
                }
            } else if name.ends_with(".rs") {
                let source = std::fs::read_to_string(&path).expect("read source");
                for line in source.lines() {
                    let line = line.trim();
                    if let Some(rest) = line.strip_prefix("const TYPE: &'static str = \"")
                        && let Some((event_type, _)) = rest.split_once('"')
                        && !event_type.starts_with("test.")
                    {
                        found.insert(event_type.to_owned());
                    }
                }
            }
        }
    }

    /// The `### \`type\`` sections of docs/events.md, with their text.
    fn documented() -> Vec<(String, String)> {
        let docs = std::fs::read_to_string(workspace_root().join("docs/events.md")).expect("docs/events.md");
        docs.split("\n### `")
            .skip(1)
            .filter_map(|section| {
                let (heading, body) = section.split_once('\n')?;
                Some((heading.trim_end_matches('`').to_owned(), body.split("\n## ").next()?.to_owned()))
            })
            .collect()
    }

    #[test]
    fn every_event_type_in_code_is_in_the_catalogue() {
        let mut declared = BTreeSet::new();
        declared_in_code(&workspace_root(), &mut declared);
        let catalogued: BTreeSet<String> = catalogue().iter().map(|e| e.event_type.to_owned()).collect();
        assert_eq!(declared, catalogued);
    }

    #[test]
    fn the_catalogue_documents_every_type_and_field() {
        let docs = documented();
        let documented_types: BTreeSet<&str> = docs.iter().map(|(t, _)| t.as_str()).collect();
        let catalogued: BTreeSet<&str> = catalogue().iter().map(|e| e.event_type).collect();
        assert_eq!(documented_types, catalogued, "docs/events.md sections");
        for entry in catalogue() {
            assert!(!entry.fields.is_empty(), "{} has no payload fields", entry.event_type);
            let (_, body) = docs.iter().find(|(t, _)| t == entry.event_type).expect("documented");
            for field in entry.fields {
                assert!(
                    body.contains(&format!("`{field}`")),
                    "docs/events.md: {} lacks `{field}`",
                    entry.event_type
                );
            }
        }
    }
}
