use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

// A deleted organization stops serving at once and is purged after the retention period.
const UP: &str = "ALTER TABLE crm.tenants ADD COLUMN deleted_at timestamptz;";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared(UP).await.map(drop)
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("ALTER TABLE crm.tenants DROP COLUMN deleted_at")
            .await
            .map(drop)
    }
}
