//! When contacts are merged, their activities move to the primary contact (`contact.merged`).
//! Running twice changes nothing more.

use crm_entities::events::contact::ContactsMerged;
use crm_platform::TenantTx;
use crm_platform::consumer::Consumer;
use crm_platform::events::Envelope;
use futures::future::BoxFuture;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use uuid::Uuid;

pub const CONSUMERS: [Consumer; 1] =
    [Consumer::of::<ContactsMerged>("communication-contacts-merged", move_activities)];

fn move_activities<'a>(tx: &'a TenantTx, event: &'a Envelope) -> BoxFuture<'a, anyhow::Result<()>> {
    Box::pin(async move {
        let merged = event.payload::<ContactsMerged>()?;
        let others: Vec<Uuid> = merged.merged_ids.iter().map(|id| id.0).collect();
        tx.execute(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "UPDATE activities SET contact_id = $1 WHERE contact_id = ANY($2)",
            [merged.primary_id.0.into(), others.into()],
        ))
        .await?;
        Ok(())
    })
}
