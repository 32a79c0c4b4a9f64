use sea_orm_migration::prelude::*;

mod m20261124_000001_identity_and_outbox;

pub struct GlobalMigrator;

#[async_trait::async_trait]
impl MigratorTrait for GlobalMigrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(m20261124_000001_identity_and_outbox::Migration)]
    }
}
