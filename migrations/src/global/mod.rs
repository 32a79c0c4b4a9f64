use sea_orm_migration::prelude::*;

mod m20261124_000001_identity_and_outbox;
mod m20261124_000002_refresh_tokens;
mod m20261124_000003_password_resets;
mod m20261124_000004_tenant_settings;
mod m20261124_000005_invitations;
mod m20261124_000006_tenant_deletion;
mod m20261125_000007_signing_key_rotation;
mod m20261130_000008_tenant_plans;
mod m20261130_000009_search_extension;
mod m20261130_000010_file_transfers;
mod m20261130_000011_task_reminders;
mod m20261130_000012_mail_jobs;
mod m20261201_000013_webhook_jobs;
mod m20261201_000014_outbox_pruning;

pub struct GlobalMigrator;

#[async_trait::async_trait]
impl MigratorTrait for GlobalMigrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_identity_and_outbox::Migration),
            Box::new(m20261124_000002_refresh_tokens::Migration),
            Box::new(m20261124_000003_password_resets::Migration),
            Box::new(m20261124_000004_tenant_settings::Migration),
            Box::new(m20261124_000005_invitations::Migration),
            Box::new(m20261124_000006_tenant_deletion::Migration),
            Box::new(m20261125_000007_signing_key_rotation::Migration),
            Box::new(m20261130_000008_tenant_plans::Migration),
            Box::new(m20261130_000009_search_extension::Migration),
            Box::new(m20261130_000010_file_transfers::Migration),
            Box::new(m20261130_000011_task_reminders::Migration),
            Box::new(m20261130_000012_mail_jobs::Migration),
            Box::new(m20261201_000013_webhook_jobs::Migration),
            Box::new(m20261201_000014_outbox_pruning::Migration),
        ]
    }
}
