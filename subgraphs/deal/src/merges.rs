//! When contacts are merged, their deal links move to the primary contact (`contact.merged`),
//! with their roles and link times. A deal linked to both keeps the primary's link, or takes
//! the merged one's role when the primary's had none. Running twice changes nothing more.

use crm_entities::events::contact::ContactsMerged;
use crm_platform::TenantTx;
use crm_platform::consumer::Consumer;
use crm_platform::events::Envelope;
use futures::future::BoxFuture;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use uuid::Uuid;

pub const CONSUMERS: [Consumer; 1] = [Consumer::of::<ContactsMerged>("deal-contacts-merged", relink)];

fn relink<'a>(tx: &'a TenantTx, event: &'a Envelope) -> BoxFuture<'a, anyhow::Result<()>> {
    Box::pin(async move {
        let merged = event.payload::<ContactsMerged>()?;
        let primary = merged.primary_id.0;
        let others: Vec<Uuid> = merged.merged_ids.iter().map(|id| id.0).collect();
        tx.execute(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO deal_contacts (deal_id, contact_id, role, created_at)
             SELECT DISTINCT ON (deal_id) deal_id, $1, role, created_at FROM deal_contacts
             WHERE contact_id = ANY($2) ORDER BY deal_id, role IS NULL, created_at
             ON CONFLICT (deal_id, contact_id)
             DO UPDATE SET role = coalesce(deal_contacts.role, EXCLUDED.role)",
            [primary.into(), others.clone().into()],
        ))
        .await?;
        tx.execute(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "DELETE FROM deal_contacts WHERE contact_id = ANY($1)",
            [others.into()],
        ))
        .await?;
        Ok(())
    })
}
