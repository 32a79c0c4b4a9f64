//! Webhooks in the API: admins (and owners) manage endpoints, read their delivery log, replay
//! and test. Another organization's webhook or delivery is NOT_FOUND, exactly like a missing one.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use chrono::{DateTime, Utc};
use crm_platform::auth::Role;
use crm_platform::events::{EVENT_VERSION, Envelope};
use crm_platform::ids::EventId;
use crm_platform::pagination::{PageInfo, PageRequest, encode_cursor};
use crm_platform::{ApiError, ApiResult, Caller, Services, text};

use crate::webhooks::deliver::Deliverer;
use crate::webhooks::{
    self, Attempt, Delivery, DeliveryStatus, NewWebhook, WebhookDeliveryId, WebhookId, WebhookPatch, address,
};

/// An endpoint the organization's events are sent to.
pub struct Webhook(webhooks::Webhook);

#[Object]
impl Webhook {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    async fn url(&self) -> &str {
        &self.0.url
    }
    /// Event types and patterns (`deal.*`, `*`) it receives.
    async fn events(&self) -> &[String] {
        &self.0.events
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// False once an admin turned it off, the endpoint answered 410 Gone, or every attempt
    /// failed for three days; `disabledReason` says which.
    async fn enabled(&self) -> bool {
        self.0.enabled
    }
    async fn disabled_reason(&self) -> Option<&str> {
        self.0.disabled_reason.as_deref()
    }
    /// Since when every attempt has failed (null while it succeeds).
    async fn failing_since(&self) -> Option<DateTime<Utc>> {
        self.0.failing_since
    }
    /// Until when the secret before the last rotation still signs deliveries (a second
    /// signature in `webhook-signature`).
    async fn previous_secret_valid_until(&self) -> Option<DateTime<Utc>> {
        self.0.previous_secret_until.filter(|until| *until > Utc::now())
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// A webhook with its signing secret, which is shown only here, once.
#[derive(SimpleObject)]
pub struct WebhookWithSecret {
    webhook: Webhook,
    /// `whsec_…`: verify deliveries with it (Standard Webhooks).
    secret: String,
}

/// One event sent (or being sent) to one endpoint.
pub struct WebhookDelivery(Delivery);

#[Object]
impl WebhookDelivery {
    /// Also the `webhook-id` header of every attempt: receivers deduplicate on it.
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    async fn webhook_id(&self) -> ID {
        self.0.webhook_id.into()
    }
    async fn event_id(&self) -> ID {
        self.0.event_id.into()
    }
    async fn event_type(&self) -> &str {
        &self.0.event_type
    }
    async fn status(&self) -> DeliveryStatus {
        DeliveryStatus::parse(&self.0.status)
    }
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    /// The HTTP status of the last attempt (null when none came back).
    async fn response_code(&self) -> Option<i32> {
        self.0.response_code
    }
    /// Milliseconds the last attempt took.
    async fn latency_ms(&self) -> Option<i32> {
        self.0.latency_ms
    }
    /// Why the last attempt did not succeed.
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }
    /// The exact body every attempt sends: the event's envelope.
    async fn payload(&self) -> &str {
        &self.0.body
    }
    /// When the event happened.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn last_attempt_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_attempt_at
    }
    async fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        self.0.next_attempt_at
    }
    async fn delivered_at(&self) -> Option<DateTime<Utc>> {
        self.0.delivered_at
    }
    /// Every attempt, first to last.
    async fn attempt_log(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Attempt>> {
        let caller = Caller::of(ctx)?;
        caller.require(Role::Admin)?;
        let tx = caller.tx().await?;
        let attempts = webhooks::attempts(&tx, &[self.0.id]).await?;
        tx.commit().await?;
        Ok(attempts)
    }
}

#[derive(SimpleObject)]
pub struct WebhookDeliveryEdge {
    cursor: String,
    node: WebhookDelivery,
}

/// A page of a webhook's deliveries, newest first.
#[derive(SimpleObject)]
pub struct WebhookDeliveryConnection {
    edges: Vec<WebhookDeliveryEdge>,
    page_info: PageInfo,
}

#[derive(InputObject)]
pub struct CreateWebhookInput {
    /// http(s); must reach a public address.
    pub url: String,
    /// Event types or patterns: `deal.stage_changed`, `deal.*`, `*` (see the event catalogue).
    pub events: Vec<String>,
    pub description: Option<String>,
}

/// Only the fields given change.
#[derive(InputObject)]
pub struct UpdateWebhookInput {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    /// `null` removes it.
    pub description: MaybeUndefined<String>,
    /// Turning a disabled webhook back on clears its failure record; replay what it missed.
    pub enabled: Option<bool>,
}

fn webhook_id(id: &ID) -> ApiResult<WebhookId> {
    WebhookId::parse(id, "id")
}

/// The URL as given, if webhooks may be sent to it.
async fn checked_url(services: &Services, raw: &str) -> ApiResult<String> {
    let field = "url";
    let raw = text::required(field, raw, 2000)?;
    let url =
        address::parse_url(&raw).map_err(|reason| ApiError::bad_input(field, format!("url {reason}")))?;
    let rule = address::AddressRule::new(services.config.webhooks.allowed_networks.clone());
    rule.check(&url)
        .await
        .map_err(|reason| ApiError::bad_input(field, format!("url is refused: {reason}")))?;
    Ok(url.to_string())
}

fn description(raw: Option<&str>) -> ApiResult<Option<String>> {
    text::optional("description", raw, 500)
}

/// The caller, if an admin or owner.
fn admin<'a>(ctx: &'a Context<'_>) -> ApiResult<&'a std::sync::Arc<Caller>> {
    let caller = Caller::of(ctx)?;
    caller.require(Role::Admin)?;
    Ok(caller)
}

#[derive(Default)]
pub struct WebhookQuery;

#[Object]
impl WebhookQuery {
    /// The organization's webhooks, oldest first. Admins and owners only.
    async fn webhooks(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Webhook>> {
        let tx = admin(ctx)?.tx().await?;
        let list = webhooks::list(&tx).await?;
        tx.commit().await?;
        Ok(list.into_iter().map(Webhook).collect())
    }

    async fn webhook(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Webhook> {
        let tx = admin(ctx)?.tx().await?;
        let webhook = webhooks::find(&tx, webhook_id(&id)?).await?;
        tx.commit().await?;
        Ok(Webhook(webhook))
    }

    /// A webhook's delivery log, newest first; `status` keeps one kind.
    async fn webhook_deliveries(
        &self,
        ctx: &Context<'_>,
        webhook_id: ID,
        first: Option<i32>,
        after: Option<String>,
        status: Option<DeliveryStatus>,
    ) -> async_graphql::Result<WebhookDeliveryConnection> {
        let caller = admin(ctx)?;
        let webhook = WebhookId::parse(&webhook_id, "webhookId")?;
        let page = PageRequest::parse(first, after.as_deref())?;
        let tx = caller.tx().await?;
        let found = webhooks::deliveries(&tx, webhook, page, status).await?;
        tx.commit().await?;
        let edges: Vec<WebhookDeliveryEdge> = found
            .deliveries
            .into_iter()
            .map(|delivery| WebhookDeliveryEdge {
                cursor: encode_cursor(delivery.id),
                node: WebhookDelivery(delivery),
            })
            .collect();
        let end_cursor = edges.last().map(|edge| edge.cursor.clone());
        Ok(WebhookDeliveryConnection {
            edges,
            page_info: PageInfo { has_next_page: found.has_next, end_cursor },
        })
    }

    async fn webhook_delivery(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<WebhookDelivery> {
        let tx = admin(ctx)?.tx().await?;
        let delivery = webhooks::find_delivery(&tx, WebhookDeliveryId::parse(&id, "id")?).await?;
        tx.commit().await?;
        Ok(WebhookDelivery(delivery))
    }
}

#[derive(Default)]
pub struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// Registers an endpoint; the secret to verify its deliveries with is in the answer, once.
    async fn create_webhook(
        &self,
        ctx: &Context<'_>,
        input: CreateWebhookInput,
    ) -> async_graphql::Result<WebhookWithSecret> {
        let caller = admin(ctx)?;
        let services = Services::of(ctx)?;
        let new = NewWebhook {
            url: checked_url(services, &input.url).await?,
            events: webhooks::parse_events(input.events)?,
            description: description(input.description.as_deref())?,
        };
        let tx = caller.tx().await?;
        let webhook = webhooks::create(&tx, caller.user(), new).await?;
        tx.commit().await?;
        let secret = webhook.secret.clone();
        Ok(WebhookWithSecret { webhook: Webhook(webhook), secret })
    }

    async fn update_webhook(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateWebhookInput,
    ) -> async_graphql::Result<Webhook> {
        let caller = admin(ctx)?;
        let services = Services::of(ctx)?;
        let url = match input.url {
            Some(url) => Some(checked_url(services, &url).await?),
            None => None,
        };
        let patch = WebhookPatch {
            url,
            events: input.events.map(webhooks::parse_events).transpose()?,
            description: match input.description {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(text) => Some(description(Some(&text))?),
            },
            enabled: input.enabled,
        };
        let tx = caller.tx().await?;
        let webhook = webhooks::update(&tx, webhook_id(&id)?, patch).await?;
        tx.commit().await?;
        Ok(Webhook(webhook))
    }

    /// Removes the endpoint with its delivery log; nothing more is sent to it.
    async fn delete_webhook(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Webhook> {
        let tx = admin(ctx)?.tx().await?;
        let webhook = webhooks::delete(&tx, webhook_id(&id)?).await?;
        tx.commit().await?;
        Ok(Webhook(webhook))
    }

    /// A new secret, shown once; deliveries carry a signature with the old one too for 24 hours.
    async fn rotate_webhook_secret(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<WebhookWithSecret> {
        let tx = admin(ctx)?.tx().await?;
        let webhook = webhooks::rotate_secret(&tx, webhook_id(&id)?).await?;
        tx.commit().await?;
        let secret = webhook.secret.clone();
        Ok(WebhookWithSecret { webhook: Webhook(webhook), secret })
    }

    /// Sends again, in order, the deliveries of events that happened in `[from, to)` (`to`:
    /// now), with their original `webhook-id`s; returns how many.
    async fn replay_webhook_deliveries(
        &self,
        ctx: &Context<'_>,
        webhook_id: ID,
        from: DateTime<Utc>,
        to: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<i64> {
        let tx = admin(ctx)?.tx().await?;
        let count = webhooks::replay(&tx, WebhookId::parse(&webhook_id, "webhookId")?, from, to).await?;
        tx.commit().await?;
        Ok(count)
    }

    /// Sends a `webhook.test` event to the endpoint now, once, and answers with what came back.
    async fn test_webhook(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<WebhookDelivery> {
        let caller = admin(ctx)?;
        let services = Services::of(ctx)?;
        let webhook = webhook_id(&id)?;
        let envelope = Envelope {
            id: EventId::new(),
            version: EVENT_VERSION,
            event_type: "webhook.test".to_owned(),
            tenant_id: caller.tenant(),
            timestamp: Utc::now(),
            actor: Some(caller.user()),
            data: serde_json::json!({ "webhook_id": webhook.0, "message": "A test delivery from MTenant CRM" }),
        };
        let tx = caller.tx().await?;
        webhooks::find(&tx, webhook).await?;
        let delivery = webhooks::record_test(&tx, webhook, &envelope).await?;
        tx.commit().await?;
        let deliverer = Deliverer::new(services.db.clone(), &services.config.webhooks)
            .map_err(|err| ApiError::internal(anyhow::anyhow!(err)))?;
        let delivered = deliverer.attempt(caller.tenant(), delivery, true).await?;
        Ok(WebhookDelivery(delivered))
    }
}
