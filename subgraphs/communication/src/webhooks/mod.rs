//! Outbound webhooks: an organization's admins register endpoints for the events they care
//! about (types or patterns like `deal.*`); every matching event becomes one delivery per
//! endpoint, sent signed (Standard Webhooks), retried with backoff for a day, in order per
//! record, and logged attempt by attempt; admins can replay a time range or send a test.
//!
//! - `fan_out`: the event consumer that turns events into deliveries.
//! - `deliver`: the workers that send them.
//! - `signing`, `address`: signatures and where deliveries may go.

pub mod address;
pub mod deliver;
pub mod fan_out;
pub mod signing;

use chrono::{DateTime, Duration, Utc};
use crm_platform::events::Envelope;
use crm_platform::ids::UserId;
use crm_platform::pagination::PageRequest;
use crm_platform::sql::Sql;
use crm_platform::{ApiError, ApiResult, TenantTx};
use sea_orm::{ConnectionTrait, FromQueryResult};
use uuid::Uuid;

crm_platform::typed_id!(WebhookId, "webhook");
crm_platform::typed_id!(WebhookDeliveryId, "webhook delivery");

/// Event types never sent to webhooks: they carry single-use links meant for one person's inbox.
pub const NOT_FOR_WEBHOOKS: [&str; 2] = ["user.password_reset_requested", "tenant.user_invited"];
/// How long a rotated-out secret still signs deliveries, so receivers can switch over.
pub const ROTATION_OVERLAP: Duration = Duration::hours(24);
/// Endpoints per organization.
const MAX_WEBHOOKS: i64 = 50;

#[derive(Clone, Debug, FromQueryResult)]
pub struct Webhook {
    pub id: Uuid,
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_secret_until: Option<DateTime<Utc>>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub failing_since: Option<DateTime<Utc>>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Webhook {
    /// The secrets deliveries are signed with now: the current one, and the previous one while
    /// its overlap lasts.
    pub fn signing_secrets(&self, now: DateTime<Utc>) -> Vec<&str> {
        let mut secrets = vec![self.secret.as_str()];
        if let (Some(previous), Some(until)) = (&self.previous_secret, self.previous_secret_until)
            && until > now
        {
            secrets.push(previous);
        }
        secrets
    }

    /// Whether events of `event_type` go to this endpoint.
    pub fn wants(&self, event_type: &str) -> bool {
        self.enabled && self.events.iter().any(|pattern| matches(pattern, event_type))
    }
}

/// `*` matches every type, `deal.*` every type under `deal.`, anything else itself; the types
/// in [`NOT_FOR_WEBHOOKS`] match nothing.
pub fn matches(pattern: &str, event_type: &str) -> bool {
    if NOT_FOR_WEBHOOKS.contains(&event_type) {
        return false;
    }
    match pattern.strip_suffix('*') {
        Some("") => true,
        Some(prefix) => prefix.ends_with('.') && event_type.starts_with(prefix),
        None => pattern == event_type,
    }
}

/// The event patterns an endpoint subscribes to, checked against the catalogue: each must be
/// `*`, a catalogued type, or `prefix.*` covering at least one.
pub fn parse_events(raw: Vec<String>) -> ApiResult<Vec<String>> {
    let catalogue: Vec<&str> =
        crm_entities::events::catalogue().iter().map(|entry| entry.event_type).collect();
    let mut events: Vec<String> = Vec::new();
    for pattern in raw.into_iter().map(|p| p.trim().to_owned()) {
        if NOT_FOR_WEBHOOKS.contains(&pattern.as_str()) {
            return Err(ApiError::bad_input(
                "events",
                format!("{pattern} events carry single-use links and are not sent to webhooks"),
            ));
        }
        if !catalogue.iter().any(|event_type| matches(&pattern, event_type)) {
            return Err(ApiError::bad_input(
                "events",
                format!(
                    "{pattern:?} matches no event type (see docs/events.md; `deal.*` and `*` are patterns)"
                ),
            ));
        }
        if !events.contains(&pattern) {
            events.push(pattern);
        }
    }
    if events.is_empty() || events.len() > 100 {
        return Err(ApiError::bad_input("events", "give between 1 and 100 event types or patterns"));
    }
    Ok(events)
}

pub struct NewWebhook {
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
}

#[derive(Default)]
pub struct WebhookPatch {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub description: Option<Option<String>>,
    pub enabled: Option<bool>,
}

/// The columns each row type is read from, never `*` (see `crm_platform::sql::columns`).
pub const WEBHOOK_COLUMNS: &str = "id, url, events, description, secret, previous_secret, previous_secret_until, \
     enabled, disabled_reason, failing_since, created_by, created_at, updated_at";
pub const DELIVERY_COLUMNS: &str = "id, webhook_id, event_id, event_type, ordering_key, body, status, attempts, \
     next_attempt_at, retrying_since, response_code, latency_ms, error, created_at, last_attempt_at, delivered_at";
const ATTEMPT_COLUMNS: &str = "delivery_id, attempt, at, response_code, latency_ms, error";

fn select() -> Sql {
    Sql::new(&format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks"))
}

pub async fn list(tx: &TenantTx) -> ApiResult<Vec<Webhook>> {
    let mut sql = select();
    sql.push(" ORDER BY created_at, id");
    Ok(Webhook::find_by_statement(sql.statement()).all(&**tx).await?)
}

/// NOT_FOUND for an id of another organization, exactly as for one that never existed.
pub async fn find(tx: &TenantTx, id: WebhookId) -> ApiResult<Webhook> {
    let mut sql = select();
    sql.push(" WHERE id = ").bind(id.0);
    one(tx, sql).await
}

/// The webhook `sql` reads or writes; NOT_FOUND for none.
async fn one(tx: &TenantTx, sql: Sql) -> ApiResult<Webhook> {
    Webhook::find_by_statement(sql.statement()).one(&**tx).await?.ok_or(ApiError::NotFound("webhook"))
}

pub async fn create(tx: &TenantTx, by: UserId, new: NewWebhook) -> ApiResult<Webhook> {
    let count = Sql::new("SELECT count(*) AS n FROM webhooks");
    let existing = tx.query_one(count.statement()).await?;
    let existing: i64 = existing.map(|row| row.try_get("", "n")).transpose()?.unwrap_or(0);
    if existing >= MAX_WEBHOOKS {
        return Err(ApiError::Conflict(format!("an organization has at most {MAX_WEBHOOKS} webhooks")));
    }
    let mut sql =
        Sql::new("INSERT INTO webhooks (id, url, events, description, secret, created_by) VALUES (");
    sql.bind(WebhookId::new().0).push(", ").bind(new.url).push(", ");
    sql.bind_as(new.events, "text[]").push(", ").bind(new.description).push(", ");
    sql.bind(signing::new_secret()).push(", ").bind(by.0).push(") RETURNING ").push(WEBHOOK_COLUMNS);
    one(tx, sql).await
}

pub async fn update(tx: &TenantTx, id: WebhookId, patch: WebhookPatch) -> ApiResult<Webhook> {
    let current = find(tx, id).await?;
    let mut sql = Sql::new("UPDATE webhooks SET updated_at = now()");
    if let Some(url) = patch.url {
        sql.push(", url = ").bind(url);
    }
    if let Some(events) = patch.events {
        sql.push(", events = ").bind_as(events, "text[]");
    }
    if let Some(description) = patch.description {
        sql.push(", description = ").bind(description);
    }
    match patch.enabled {
        // Turned back on: a fresh start, not the end of the old failing run.
        Some(true) if !current.enabled => {
            sql.push(", enabled = true, disabled_reason = NULL, failing_since = NULL");
        }
        Some(false) if current.enabled => {
            sql.push(", enabled = false, disabled_reason = 'disabled by an admin'");
        }
        _ => {}
    }
    sql.push(" WHERE id = ").bind(id.0).push(" RETURNING ").push(WEBHOOK_COLUMNS);
    let updated = one(tx, sql).await?;
    if !updated.enabled && current.enabled {
        deliver::cancel_pending(tx, id, "the webhook was disabled").await?;
    }
    Ok(updated)
}

pub async fn delete(tx: &TenantTx, id: WebhookId) -> ApiResult<Webhook> {
    let webhook = find(tx, id).await?;
    let mut jobs = Sql::new("DELETE FROM crm.webhook_jobs WHERE tenant_id = ");
    jobs.bind(tx.tenant().0).push(" AND webhook_id = ").bind(id.0);
    tx.execute(jobs.statement()).await?;
    let mut sql = Sql::new("DELETE FROM webhooks WHERE id = ");
    sql.bind(id.0);
    tx.execute(sql.statement()).await?;
    Ok(webhook)
}

/// A new secret; the old one keeps signing (as a second signature) for [`ROTATION_OVERLAP`].
pub async fn rotate_secret(tx: &TenantTx, id: WebhookId) -> ApiResult<Webhook> {
    find(tx, id).await?;
    let mut sql = Sql::new(
        "UPDATE webhooks SET previous_secret = secret, previous_secret_until = now() + make_interval(hours => ",
    );
    sql.bind(ROTATION_OVERLAP.num_hours() as i32).push("), secret = ").bind(signing::new_secret());
    sql.push(", updated_at = now() WHERE id = ").bind(id.0).push(" RETURNING ").push(WEBHOOK_COLUMNS);
    one(tx, sql).await
}

/// The state of a delivery.
#[derive(async_graphql::Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(name = "WebhookDeliveryStatus")]
pub enum DeliveryStatus {
    /// Waiting for its first or next attempt.
    Pending,
    Succeeded,
    /// Given up: a final answer, a day of failures, or the webhook was disabled or removed.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Succeeded => "SUCCEEDED",
            Self::Failed => "FAILED",
        }
    }

    pub fn parse(stored: &str) -> Self {
        match stored {
            "SUCCEEDED" => Self::Succeeded,
            "FAILED" => Self::Failed,
            _ => Self::Pending,
        }
    }
}

#[derive(Clone, Debug, FromQueryResult)]
pub struct Delivery {
    pub id: Uuid,
    pub webhook_id: Uuid,
    pub event_id: Uuid,
    pub event_type: String,
    pub ordering_key: String,
    pub body: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub retrying_since: Option<DateTime<Utc>>,
    pub response_code: Option<i32>,
    pub latency_ms: Option<i32>,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// One attempt at a delivery, as the log shows it.
#[derive(Clone, Debug, FromQueryResult, async_graphql::SimpleObject)]
#[graphql(name = "WebhookAttempt")]
pub struct Attempt {
    #[graphql(skip)]
    pub delivery_id: Uuid,
    /// 1 for the first.
    pub attempt: i32,
    pub at: DateTime<Utc>,
    /// The HTTP status that came back (null when none did).
    pub response_code: Option<i32>,
    pub latency_ms: Option<i32>,
    /// Why it did not succeed.
    pub error: Option<String>,
}

pub struct DeliveryPage {
    pub deliveries: Vec<Delivery>,
    pub has_next: bool,
}

/// A webhook's deliveries, newest first (delivery ids are time-ordered, so the id is the
/// cursor), optionally of one status.
pub async fn deliveries(
    tx: &TenantTx,
    webhook: WebhookId,
    page: PageRequest,
    status: Option<DeliveryStatus>,
) -> ApiResult<DeliveryPage> {
    find(tx, webhook).await?;
    let mut sql = Sql::new(&format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE webhook_id = "));
    sql.bind(webhook.0);
    if let Some(status) = status {
        sql.push(" AND status = ").bind(status.as_str());
    }
    if let Some(after) = page.after {
        sql.push(" AND id < ").bind(after);
    }
    sql.push(&format!(" ORDER BY id DESC LIMIT {}", page.fetch_limit()));
    let mut deliveries = Delivery::find_by_statement(sql.statement()).all(&**tx).await?;
    let has_next = deliveries.len() as u64 > page.size;
    deliveries.truncate(page.size as usize);
    Ok(DeliveryPage { deliveries, has_next })
}

pub async fn find_delivery(tx: &TenantTx, id: WebhookDeliveryId) -> ApiResult<Delivery> {
    let mut sql = Sql::new(&format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = "));
    sql.bind(id.0);
    Delivery::find_by_statement(sql.statement())
        .one(&**tx)
        .await?
        .ok_or(ApiError::NotFound("webhook delivery"))
}

/// The attempts of the given deliveries, in order.
pub async fn attempts(tx: &TenantTx, deliveries: &[Uuid]) -> ApiResult<Vec<Attempt>> {
    let mut sql =
        Sql::new(&format!("SELECT {ATTEMPT_COLUMNS} FROM webhook_attempts WHERE delivery_id = ANY("));
    sql.bind_as(deliveries.to_vec(), "uuid[]").push(") ORDER BY delivery_id, attempt");
    Ok(Attempt::find_by_statement(sql.statement()).all(&**tx).await?)
}

/// Sends again, in the order they were created, the finished (SUCCEEDED or FAILED) deliveries
/// of `webhook` created in `[from, to)`: same body and `webhook-id` (receivers deduplicate on
/// it), new attempts. Deliveries still pending are on their way already and are left alone.
/// Returns how many.
pub async fn replay(
    tx: &TenantTx,
    webhook: WebhookId,
    from: DateTime<Utc>,
    to: Option<DateTime<Utc>>,
) -> ApiResult<i64> {
    let endpoint = find(tx, webhook).await?;
    if !endpoint.enabled {
        return Err(ApiError::Conflict("enable the webhook before replaying to it".to_owned()));
    }
    let to = to.unwrap_or_else(Utc::now);
    if to <= from {
        return Err(ApiError::bad_input("to", "to must be after from"));
    }
    let mut sql = Sql::new(
        "UPDATE webhook_deliveries SET status = 'PENDING', next_attempt_at = now(), retrying_since = NULL
         WHERE webhook_id = ",
    );
    sql.bind(webhook.0).push(" AND created_at >= ").bind(from).push(" AND created_at < ").bind(to);
    sql.push(" AND status <> 'PENDING' RETURNING id, ordering_key, created_at");
    #[derive(FromQueryResult)]
    struct Replayed {
        id: Uuid,
        ordering_key: String,
        created_at: DateTime<Utc>,
    }
    let mut replayed = Replayed::find_by_statement(sql.statement()).all(&**tx).await?;
    replayed.sort_by_key(|delivery| (delivery.created_at, delivery.id));
    for delivery in &replayed {
        deliver::schedule(tx, webhook, delivery.id, &delivery.ordering_key, delivery.created_at).await?;
    }
    Ok(replayed.len() as i64)
}

/// A delivery of a test event to `webhook`, attempted by the caller at once, never queued.
pub async fn record_test(
    tx: &TenantTx,
    webhook: WebhookId,
    event: &Envelope,
) -> ApiResult<WebhookDeliveryId> {
    let id = WebhookDeliveryId::new();
    let body = serde_json::to_string(event).map_err(ApiError::internal)?;
    let mut sql = Sql::new(
        "INSERT INTO webhook_deliveries (id, webhook_id, event_id, event_type, ordering_key, body, status, created_at)
         VALUES (",
    );
    sql.bind(id.0).push(", ").bind(webhook.0).push(", ").bind(event.id.into_uuid()).push(", ");
    sql.bind(event.event_type.clone()).push(", ").bind(format!("event:{}", event.id)).push(", ").bind(body);
    sql.push(", 'PENDING', ").bind(event.timestamp).push(")");
    tx.execute(sql.statement()).await?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_types_and_prefixes_but_never_single_use_links() {
        assert!(matches("*", "deal.created"));
        assert!(matches("deal.*", "deal.stage_changed"));
        assert!(!matches("deal.*", "dealer.created"));
        assert!(!matches("deal*", "deal.created"), "a prefix ends at a dot");
        assert!(matches("contact.created", "contact.created"));
        assert!(!matches("contact.created", "contact.updated"));
        for secret in NOT_FOR_WEBHOOKS {
            assert!(!matches("*", secret), "{secret}");
        }
    }

    #[test]
    fn subscriptions_name_catalogued_types() {
        assert_eq!(parse_events(vec![" deal.* ".into(), "deal.*".into()]).expect("ok"), ["deal.*"]);
        assert!(parse_events(vec!["*".into(), "contact.created".into()]).is_ok());
        for bad in ["deal.nope", "nothing.*", "user.password_reset_requested", ""] {
            assert!(parse_events(vec![bad.into()]).is_err(), "{bad}");
        }
        assert!(parse_events(vec![]).is_err());
    }
}
