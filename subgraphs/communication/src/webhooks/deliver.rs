//! The deliverers: every communication replica runs a few workers that lease due jobs from
//! `crm.webhook_jobs` and make one attempt each.
//!
//! - A job is leased only when no job of the same endpoint and record with an earlier event
//!   waits, so an endpoint sees each record's events in the order they happened (a new event's
//!   delivery waits [`SETTLE`] for earlier ones fanned out by another replica), and only while
//!   fewer than
//!   [`PER_ENDPOINT`] attempts to that endpoint are in flight, so a slow endpoint holds a few
//!   workers, never all of them, and other endpoints and organizations keep being served.
//! - The attempt is counted (committed) before the request goes out: a deliverer that dies
//!   mid-attempt leaves a lease that runs out (twice the attempt timeout and a few seconds), and
//!   the next attempt re-sends the same message (same `webhook-id`, which receivers deduplicate
//!   on).
//! - 2xx: SUCCEEDED. 410: FAILED and the webhook disabled. Other 4xx (except 408 and 429),
//!   and addresses webhooks may not reach: FAILED at once. 5xx, 408, 429, timeouts and
//!   connection errors: retried with growing waits (±20%) until a day has passed, then FAILED.
//!   An endpoint whose attempts have all failed for three days is disabled and its creator told
//!   by email.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use crm_entities::tenant::email::EmailPurpose;
use crm_platform::config::WebhookSettings;
use crm_platform::ids::UserId;
use crm_platform::sql::Sql;
use crm_platform::{ApiError, ApiResult, Db, TenantId, TenantTx};
use rand::Rng;
use sea_orm::{ConnectionTrait, FromQueryResult, TransactionTrait};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::address::{AddressRule, GuardedResolver};
use super::{DELIVERY_COLUMNS, Delivery, WEBHOOK_COLUMNS, Webhook, WebhookDeliveryId, WebhookId, signing};

/// Workers per replica.
const WORKERS: usize = 8;
/// Attempts to one endpoint in flight at once, across replicas.
pub const PER_ENDPOINT: i64 = 4;
/// What a worker's lease on a job adds to the attempt timeout (which bounds the whole request,
/// body included), for the database writes around it. A worker that died mid-attempt lets the
/// job go after twice the timeout plus this.
const LEASE_MARGIN: Duration = Duration::from_secs(5);
const IDLE_POLL: Duration = Duration::from_millis(250);
/// The longest wait between attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(2 * 3600);
/// How long a new event's delivery waits after the event: replicas fan events out side by side,
/// so an earlier event about the same record may be a moment behind; it gets this long to be
/// queued and go first.
pub const SETTLE: Duration = Duration::from_secs(1);
/// How much of a response body is read (and then dropped): enough to keep the connection
/// honest, never a receiver's whole answer.
const BODY_CAP: usize = 16 * 1024;

/// Queues an attempt of `delivery`, the delivery of an event of `event_at`: at once for a
/// replay, and for a new event once [`SETTLE`] has passed since it happened.
pub async fn schedule(
    tx: &TenantTx,
    webhook: WebhookId,
    delivery: Uuid,
    ordering_key: &str,
    event_at: DateTime<Utc>,
) -> ApiResult<()> {
    let mut sql = Sql::new(
        "INSERT INTO crm.webhook_jobs (delivery_id, tenant_id, webhook_id, ordering_key, event_at, due_at) VALUES (",
    );
    sql.bind(delivery).push(", ").bind(tx.tenant().0).push(", ").bind(webhook.0).push(", ");
    sql.bind(ordering_key.to_owned()).push(", ").bind(event_at).push(", greatest(now(), ");
    sql.bind(event_at + chrono::Duration::from_std(SETTLE).unwrap_or_default());
    sql.push(")) ON CONFLICT (delivery_id) DO UPDATE SET due_at = now()");
    tx.execute(sql.statement()).await?;
    Ok(())
}

/// Gives up every waiting delivery of `webhook`, with `reason`.
pub async fn cancel_pending(tx: &TenantTx, webhook: WebhookId, reason: &str) -> ApiResult<()> {
    let mut jobs = Sql::new("DELETE FROM crm.webhook_jobs WHERE tenant_id = ");
    jobs.bind(tx.tenant().0).push(" AND webhook_id = ").bind(webhook.0);
    tx.execute(jobs.statement()).await?;
    let mut sql =
        Sql::new("UPDATE webhook_deliveries SET status = 'FAILED', next_attempt_at = NULL, error = ");
    sql.bind(reason.to_owned()).push(" WHERE status = 'PENDING' AND webhook_id = ").bind(webhook.0);
    tx.execute(sql.statement()).await?;
    Ok(())
}

/// What one attempt got back.
struct Answer {
    status: Option<u16>,
    latency: Duration,
    error: Option<String>,
    /// Never worth another attempt (an address webhooks may not reach, a bad URL).
    refused: bool,
}

/// What becomes of a delivery after an attempt.
#[derive(Debug, PartialEq, Eq)]
enum Next {
    Succeeded,
    Retry,
    Failed,
    /// FAILED, and the webhook is disabled (410 Gone).
    Gone,
}

fn judge(answer: &Answer) -> Next {
    match answer.status {
        Some(code) if (200..300).contains(&code) => Next::Succeeded,
        Some(410) => Next::Gone,
        Some(408 | 429) => Next::Retry,
        // Redirects are not followed: the endpoint must be fixed, not retried.
        Some(code) if (300..400).contains(&code) => Next::Failed,
        Some(code) if (400..500).contains(&code) => Next::Failed,
        Some(_) => Next::Retry,
        None if answer.refused => Next::Failed,
        None => Next::Retry,
    }
}

/// The wait after attempt `attempt` (1-based): `first` × 3^(attempt-1), at most two hours,
/// ±20% so endpoints that failed together are not retried together.
fn backoff(first: Duration, attempt: i32) -> Duration {
    let exponent = attempt.saturating_sub(1).clamp(0, 20) as u32;
    let base = first.saturating_mul(3_u32.saturating_pow(exponent)).min(MAX_BACKOFF);
    base.mul_f64(rand::thread_rng().gen_range(0.8..1.2))
}

#[derive(Clone)]
pub struct Deliverer {
    db: Db,
    client: reqwest::Client,
    rule: Arc<AddressRule>,
    settings: WebhookSettings,
}

impl Deliverer {
    pub fn new(db: Db, settings: &WebhookSettings) -> Result<Self, String> {
        let rule = Arc::new(AddressRule::new(settings.allowed_networks.clone()));
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(GuardedResolver(Arc::clone(&rule))))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("MTenant-CRM-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| format!("the webhook client cannot start: {err}"))?;
        Ok(Self { db, client, rule, settings: settings.clone() })
    }

    pub fn rule(&self) -> &AddressRule {
        &self.rule
    }

    /// Runs the workers until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) {
        let workers = (0..WORKERS).map(|_| {
            let (deliverer, shutdown) = (self.clone(), shutdown.clone());
            async move {
                while !shutdown.is_cancelled() {
                    let worked = match deliverer.next().await {
                        Ok(worked) => worked,
                        Err(err) => {
                            tracing::warn!(error = ?err, "webhook delivery failed to run");
                            false
                        }
                    };
                    if !worked {
                        tokio::select! {
                            () = shutdown.cancelled() => {}
                            () = tokio::time::sleep(IDLE_POLL) => {}
                        }
                    }
                }
            }
        });
        futures::future::join_all(workers).await;
    }

    /// Makes one due attempt, if any is due; whether there was one.
    pub async fn next(&self) -> ApiResult<bool> {
        let Some((tenant, delivery)) = self.claim().await? else { return Ok(false) };
        self.attempt(tenant, WebhookDeliveryId(delivery), false).await?;
        Ok(true)
    }

    /// Leases the next due job. Claims for one endpoint take turns (a transaction-scoped
    /// advisory lock on it) and count its leases again once it is their turn, so no race
    /// between workers or replicas puts more than [`PER_ENDPOINT`] attempts in flight there.
    async fn claim(&self) -> ApiResult<Option<(TenantId, Uuid)>> {
        let txn = self.db.conn().begin().await?;
        let mut sql = Sql::new(
            "SELECT j.delivery_id, j.tenant_id, j.webhook_id FROM crm.webhook_jobs j
             WHERE j.due_at <= now() AND (j.lease_until IS NULL OR j.lease_until < now())
               AND NOT EXISTS (SELECT 1 FROM crm.webhook_jobs e
                   WHERE e.webhook_id = j.webhook_id AND e.ordering_key = j.ordering_key
                     AND (e.event_at, e.delivery_id) < (j.event_at, j.delivery_id))
               AND (SELECT count(*) FROM crm.webhook_jobs b
                   WHERE b.webhook_id = j.webhook_id AND b.lease_until >= now()) < ",
        );
        sql.bind(PER_ENDPOINT).push(" ORDER BY j.due_at, j.event_at LIMIT 1 FOR UPDATE OF j SKIP LOCKED");
        let Some(row) = txn.query_one(sql.statement()).await? else { return Ok(None) };
        let delivery: Uuid = row.try_get("", "delivery_id")?;
        let tenant: Uuid = row.try_get("", "tenant_id")?;
        let webhook: Uuid = row.try_get("", "webhook_id")?;
        let mut turn = Sql::new("SELECT pg_advisory_xact_lock(hashtextextended('webhook-slots:' || ");
        turn.bind(webhook.to_string()).push(", 0))");
        txn.execute(turn.statement()).await?;
        let mut count = Sql::new(
            "SELECT count(*) AS n FROM crm.webhook_jobs WHERE lease_until >= now() AND webhook_id = ",
        );
        count.bind(webhook);
        let in_flight: i64 =
            txn.query_one(count.statement()).await?.map(|r| r.try_get("", "n")).transpose()?.unwrap_or(0);
        if in_flight >= PER_ENDPOINT {
            txn.rollback().await?;
            return Ok(None);
        }
        let mut lease = Sql::new("UPDATE crm.webhook_jobs SET lease_until = now() + make_interval(secs => ");
        let lease_for = self.settings.timeout * 2 + LEASE_MARGIN;
        lease.bind(lease_for.as_secs_f64()).push(") WHERE delivery_id = ").bind(delivery);
        txn.execute(lease.statement()).await?;
        txn.commit().await?;
        Ok(Some((TenantId(tenant), delivery)))
    }

    /// One attempt at `id`. A test (`test`) is one attempt whose outcome is final and which
    /// leaves the webhook's failure record alone.
    pub async fn attempt(&self, tenant: TenantId, id: WebhookDeliveryId, test: bool) -> ApiResult<Delivery> {
        let tx = TenantTx::begin(&self.db, tenant).await?;
        let mut sql = Sql::new(&format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = "));
        sql.bind(id.0).push(" FOR UPDATE");
        let Some(delivery) = Delivery::find_by_statement(sql.statement()).one(&*tx).await? else {
            forget_job(&tx, id).await?;
            tx.commit().await?;
            return Err(ApiError::NotFound("webhook delivery"));
        };
        let mut sql = Sql::new(&format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = "));
        sql.bind(delivery.webhook_id);
        let webhook = Webhook::find_by_statement(sql.statement()).one(&*tx).await?;
        let webhook = match webhook {
            Some(webhook) if (webhook.enabled || test) && delivery.status == "PENDING" => webhook,
            _ => {
                forget_job(&tx, id).await?;
                tx.commit().await?;
                return Ok(delivery);
            }
        };
        let attempt = delivery.attempts + 1;
        let mut sql = Sql::new("UPDATE webhook_deliveries SET attempts = ");
        sql.bind(attempt).push(", last_attempt_at = now() WHERE id = ").bind(id.0);
        tx.execute(sql.statement()).await?;
        tx.commit().await?;

        let answer = self.send(&webhook, &delivery).await;
        let next = match judge(&answer) {
            Next::Retry if test => Next::Failed,
            next => next,
        };
        let outcome = match next {
            Next::Succeeded => "succeeded",
            Next::Retry => "retried",
            Next::Failed | Next::Gone => "failed",
        };
        crm_platform::metrics::METRICS.webhook_attempts.with_label_values(&[outcome]).inc();

        let tx = TenantTx::begin(&self.db, tenant).await?;
        let mut log = Sql::new(
            "INSERT INTO webhook_attempts (delivery_id, attempt, response_code, latency_ms, error) VALUES (",
        );
        let code = answer.status.map(i32::from);
        let latency = answer.latency.as_millis().min(i32::MAX as u128) as i32;
        log.bind(id.0).push(", ").bind(attempt).push(", ").bind(code).push(", ").bind(latency).push(", ");
        log.bind(answer.error.clone()).push(") ON CONFLICT DO NOTHING");
        tx.execute(log.statement()).await?;

        let mut sql = Sql::new("UPDATE webhook_deliveries SET response_code = ");
        sql.bind(code).push(", latency_ms = ").bind(latency).push(", error = ").bind(answer.error.clone());
        match next {
            Next::Succeeded => {
                sql.push(", status = 'SUCCEEDED', delivered_at = now(), next_attempt_at = NULL, retrying_since = NULL");
            }
            Next::Retry => {
                let wait = backoff(self.settings.first_retry, attempt);
                let give_up = delivery.retrying_since_or_now() + self.settings.give_up_after;
                let next_at = Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
                if next_at > give_up {
                    sql.push(", status = 'FAILED', next_attempt_at = NULL, error = ");
                    sql.bind(format!(
                        "given up after {attempt} attempts; the last: {}",
                        answer.error.as_deref().unwrap_or("no answer")
                    ));
                } else {
                    sql.push(", retrying_since = coalesce(retrying_since, now()), next_attempt_at = ")
                        .bind(next_at);
                }
            }
            Next::Failed | Next::Gone => {
                sql.push(", status = 'FAILED', next_attempt_at = NULL");
            }
        }
        sql.push(" WHERE id = ").bind(id.0).push(" RETURNING ").push(DELIVERY_COLUMNS);
        let updated = Delivery::find_by_statement(sql.statement())
            .one(&*tx)
            .await?
            .ok_or(ApiError::NotFound("webhook delivery"))?;

        if updated.status == "PENDING" {
            let mut job = Sql::new("UPDATE crm.webhook_jobs SET lease_until = NULL, due_at = ");
            job.bind(updated.next_attempt_at.unwrap_or_else(Utc::now))
                .push(" WHERE delivery_id = ")
                .bind(id.0);
            tx.execute(job.statement()).await?;
        } else {
            forget_job(&tx, id).await?;
        }
        if !test {
            self.record_endpoint_health(&tx, &webhook, &next).await?;
        }
        tx.commit().await?;
        Ok(updated)
    }

    /// Clears the endpoint's failing run on success; on failure starts or continues it, and
    /// disables the endpoint (telling its creator) on 410 or once it has failed for too long.
    async fn record_endpoint_health(&self, tx: &TenantTx, webhook: &Webhook, next: &Next) -> ApiResult<()> {
        let id = WebhookId(webhook.id);
        if *next == Next::Succeeded {
            let mut sql = Sql::new(
                "UPDATE webhooks SET failing_since = NULL WHERE failing_since IS NOT NULL AND id = ",
            );
            sql.bind(id.0);
            tx.execute(sql.statement()).await?;
            return Ok(());
        }
        let failing_since = webhook.failing_since.unwrap_or_else(Utc::now);
        let too_long = Utc::now() - failing_since
            >= chrono::Duration::from_std(self.settings.disable_after).unwrap_or_default();
        let reason = match next {
            Next::Gone => Some("the endpoint answered 410 Gone".to_owned()),
            _ if too_long => Some(format!(
                "every attempt failed for {} days",
                self.settings.disable_after.as_secs() / 86_400
            )),
            _ => None,
        };
        let mut sql = Sql::new("UPDATE webhooks SET failing_since = coalesce(failing_since, now())");
        if let Some(reason) = &reason {
            sql.push(", enabled = false, disabled_reason = ").bind(reason.clone());
        }
        sql.push(" WHERE id = ").bind(id.0);
        tx.execute(sql.statement()).await?;
        if let Some(reason) = reason {
            super::deliver::cancel_pending(tx, id, &format!("the webhook was disabled: {reason}")).await?;
            tell_creator(tx, webhook, &reason).await?;
        }
        Ok(())
    }

    async fn send(&self, webhook: &Webhook, delivery: &Delivery) -> Answer {
        let started = Instant::now();
        let refused = |error: String| Answer {
            status: None,
            latency: started.elapsed(),
            error: Some(error),
            refused: true,
        };
        let url = match super::address::parse_url(&webhook.url) {
            Ok(url) => url,
            Err(reason) => return refused(format!("the URL {reason}")),
        };
        if let Err(reason) = self.rule.check(&url).await {
            return refused(format!("refused: {reason}"));
        }
        let message_id = delivery.id.to_string();
        let timestamp = Utc::now().timestamp();
        let signature = signing::signature_header(
            &webhook.signing_secrets(Utc::now()),
            &message_id,
            timestamp,
            delivery.body.as_bytes(),
        );
        let request = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &message_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(delivery.body.clone());
        let mut response = match request.send().await {
            Ok(response) => response,
            Err(err) => {
                let error = if err.is_timeout() {
                    format!("no answer within {} s", self.settings.timeout.as_secs())
                } else if err.is_connect() {
                    "could not connect".to_owned()
                } else {
                    "the request failed".to_owned()
                };
                return Answer {
                    status: None,
                    latency: started.elapsed(),
                    error: Some(error),
                    refused: false,
                };
            }
        };
        let status = response.status().as_u16();
        // Read a little of the body within the same timeout, then let the connection go.
        let mut read = 0;
        while read < BODY_CAP {
            match tokio::time::timeout(self.settings.timeout, response.chunk()).await {
                Ok(Ok(Some(chunk))) => read += chunk.len(),
                _ => break,
            }
        }
        let error = match status {
            200..=299 => None,
            300..=399 => Some(format!("HTTP {status}: redirects are not followed")),
            _ => Some(format!("HTTP {status}")),
        };
        Answer { status: Some(status), latency: started.elapsed(), error, refused: false }
    }
}

impl Delivery {
    fn retrying_since_or_now(&self) -> DateTime<Utc> {
        self.retrying_since.unwrap_or_else(Utc::now)
    }
}

async fn forget_job(tx: &TenantTx, id: WebhookDeliveryId) -> ApiResult<()> {
    let mut sql = Sql::new("DELETE FROM crm.webhook_jobs WHERE delivery_id = ");
    sql.bind(id.0);
    tx.execute(sql.statement()).await?;
    Ok(())
}

/// Emails the member who created `webhook` that it was disabled, and why.
async fn tell_creator(tx: &TenantTx, webhook: &Webhook, reason: &str) -> ApiResult<()> {
    let Some(creator) = webhook.created_by else { return Ok(()) };
    let person = crate::flows::member(tx, UserId(creator)).await.map_err(ApiError::internal)?;
    let Some(person) = person else { return Ok(()) };
    let text = format!(
        "Hello {},\n\nthe webhook to {} in {} was disabled: {reason}.\nEvents are no longer sent to it. \
         When the endpoint works again, enable the webhook and replay what it missed.\n",
        person.name, webhook.url, person.organization
    );
    let subject = format!("Webhook disabled: {}", webhook.url);
    crate::flows::notify(tx, EmailPurpose::Notice, &person.email, Some(person.name), subject, text)
        .await
        .map_err(ApiError::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: Option<u16>, refused: bool) -> Answer {
        Answer { status, latency: Duration::ZERO, error: None, refused }
    }

    #[test]
    fn answers_decide_between_done_retry_and_give_up() {
        assert_eq!(judge(&answer(Some(200), false)), Next::Succeeded);
        assert_eq!(judge(&answer(Some(204), false)), Next::Succeeded);
        assert_eq!(judge(&answer(Some(410), false)), Next::Gone);
        for retried in [500, 502, 503, 408, 429] {
            assert_eq!(judge(&answer(Some(retried), false)), Next::Retry, "{retried}");
        }
        for final_code in [400, 401, 403, 404, 301, 302, 307] {
            assert_eq!(judge(&answer(Some(final_code), false)), Next::Failed, "{final_code}");
        }
        assert_eq!(judge(&answer(None, false)), Next::Retry, "timeouts and connection errors");
        assert_eq!(judge(&answer(None, true)), Next::Failed, "refused addresses");
    }

    #[test]
    fn waits_grow_threefold_with_jitter_up_to_two_hours() {
        let first = Duration::from_secs(10);
        for (attempt, base) in [(1, 10.0), (2, 30.0), (3, 90.0), (20, 7200.0)] {
            let wait = backoff(first, attempt).as_secs_f64();
            assert!((base * 0.8..=base * 1.2).contains(&wait), "attempt {attempt}: {wait}");
        }
    }
}
