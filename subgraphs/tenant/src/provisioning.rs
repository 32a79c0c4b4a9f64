//! A new tenant's schema: the template migrations plus a default pipeline with ordered stages.

use chrono::Utc;
use crm_entities::ids::{PipelineId, StageId};
use crm_entities::tenant::pipeline;
use crm_entities::tenant::pipeline_stage::{self, DEFAULT_STAGES};
use crm_platform::{ApiResult, TenantId};
use sea_orm::{ActiveModelTrait, DatabaseTransaction, EntityTrait, Set};

/// Creates and fills the tenant's schema inside `txn`; leaves the search_path on that schema.
pub async fn provision_schema(txn: &DatabaseTransaction, tenant: TenantId) -> ApiResult<()> {
    crm_migrations::migrate_tenant_schema(txn, &tenant.schema()).await?;
    let now = Utc::now();
    let pipeline_id = PipelineId::new();
    pipeline::ActiveModel {
        id: Set(pipeline_id.0),
        name: Set("Sales".to_owned()),
        is_default: Set(true),
        position: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(txn)
    .await?;
    let stages = DEFAULT_STAGES.iter().zip(1..).map(|(&(name, probability, kind), position)| {
        pipeline_stage::ActiveModel {
            id: Set(StageId::new().0),
            pipeline_id: Set(pipeline_id.0),
            name: Set(name.to_owned()),
            position: Set(position),
            probability: Set(probability),
            kind: Set(kind),
            rotten_days: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
    });
    pipeline_stage::Entity::insert_many(stages).exec(txn).await?;
    Ok(())
}
