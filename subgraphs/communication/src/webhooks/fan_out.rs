//! The consumer that turns every event into one delivery per endpoint that wants it, in the
//! event's tenant (taken from its subject), in the consumer's transaction: a redelivered event
//! finds its deliveries there already and adds none.

use crm_platform::TenantTx;
use crm_platform::consumer::Consumer;
use crm_platform::events::Envelope;
use crm_platform::sql::Sql;
use futures::future::BoxFuture;
use sea_orm::{ConnectionTrait, FromQueryResult};
use uuid::Uuid;

use super::{WEBHOOK_COLUMNS, Webhook, WebhookDeliveryId, WebhookId, deliver};

pub const CONSUMER: Consumer = Consumer::of_every_event("communication-webhooks", fan_out);

/// The record an event is about, in order of preference: deliveries with the same key go to an
/// endpoint in the order their events happened.
const ORDERING_FIELDS: [&str; 7] =
    ["deal_id", "contact_id", "company_id", "task_id", "activity_id", "email_id", "user_id"];

pub fn ordering_key(event: &Envelope) -> String {
    ORDERING_FIELDS
        .iter()
        .find_map(|field| {
            event.data.get(*field).and_then(|value| value.as_str()).map(|id| format!("{field}:{id}"))
        })
        .unwrap_or_else(|| format!("event:{}", event.id))
}

fn fan_out<'a>(tx: &'a TenantTx, event: &'a Envelope) -> BoxFuture<'a, anyhow::Result<()>> {
    Box::pin(async move {
        let endpoints = Webhook::find_by_statement(
            Sql::new(&format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE enabled")).statement(),
        )
        .all(&**tx)
        .await?;
        let wanting: Vec<&Webhook> =
            endpoints.iter().filter(|webhook| webhook.wants(&event.event_type)).collect();
        if wanting.is_empty() {
            return Ok(());
        }
        // The exact bytes every attempt sends.
        let body = serde_json::to_string(event)?;
        let key = ordering_key(event);
        for webhook in wanting {
            let id = WebhookDeliveryId::new();
            let mut sql = Sql::new(
                "INSERT INTO webhook_deliveries (id, webhook_id, event_id, event_type, ordering_key, body, status,
                     next_attempt_at, created_at) VALUES (",
            );
            sql.bind(id.0).push(", ").bind(webhook.id).push(", ").bind(event.id.into_uuid()).push(", ");
            sql.bind(event.event_type.clone()).push(", ").bind(key.clone()).push(", ").bind(body.clone());
            sql.push(", 'PENDING', now(), ").bind(event.timestamp);
            sql.push(") ON CONFLICT ON CONSTRAINT webhook_deliveries_event_key DO NOTHING RETURNING id");
            let inserted = tx.query_one(sql.statement()).await?;
            if let Some(row) = inserted {
                let id: Uuid = row.try_get("", "id")?;
                deliver::schedule(tx, WebhookId(webhook.id), id, &key, event.timestamp)
                    .await
                    .map_err(|err| anyhow::anyhow!("scheduling a webhook delivery: {err:?}"))?;
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deliveries_are_ordered_by_the_record_the_event_is_about() {
        let deal = Uuid::now_v7();
        let envelope = |data: serde_json::Value| Envelope {
            id: crm_platform::ids::EventId::new(),
            version: 1,
            event_type: "deal.stage_changed".into(),
            tenant_id: crm_platform::TenantId::new(),
            timestamp: chrono::Utc::now(),
            actor: None,
            data,
        };
        let moved = envelope(serde_json::json!({ "deal_id": deal, "contact_id": Uuid::now_v7() }));
        assert_eq!(ordering_key(&moved), format!("deal_id:{deal}"));
        let other = envelope(serde_json::json!({ "name": "x" }));
        assert_eq!(ordering_key(&other), format!("event:{}", other.id));
    }
}
