use sea_orm_migration::prelude::*;

mod m20261124_000001_crm_core;
mod m20261125_000002_user_preferences;
mod m20261130_000003_contacts_complete;
mod m20261130_000004_contact_imports;
mod m20261130_000005_contact_name_parts;
mod m20261130_000006_custom_field_indexes;
mod m20261130_000007_contacts_search_text_inline;
mod m20261130_000008_deals_complete;
mod m20261130_000009_deal_rollups;
mod m20261130_000010_email_templates;
mod m20261130_000011_activities_complete;
mod m20261130_000012_tasks;
mod m20261130_000013_emails;
mod m20261201_000014_webhooks;

/// The tenant template: applied to each `tenant_<id>` schema with the search_path set to it, so
/// its SQL names no schema.
pub struct TenantMigrator;

#[async_trait::async_trait]
impl MigratorTrait for TenantMigrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_crm_core::Migration),
            Box::new(m20261125_000002_user_preferences::Migration),
            Box::new(m20261130_000003_contacts_complete::Migration),
            Box::new(m20261130_000004_contact_imports::Migration),
            Box::new(m20261130_000005_contact_name_parts::Migration),
            Box::new(m20261130_000006_custom_field_indexes::Migration),
            Box::new(m20261130_000007_contacts_search_text_inline::Migration),
            Box::new(m20261130_000008_deals_complete::Migration),
            Box::new(m20261130_000009_deal_rollups::Migration),
            Box::new(m20261130_000010_email_templates::Migration),
            Box::new(m20261130_000011_activities_complete::Migration),
            Box::new(m20261130_000012_tasks::Migration),
            Box::new(m20261130_000013_emails::Migration),
            Box::new(m20261201_000014_webhooks::Migration),
        ]
    }
}
