//! The sender: every communication replica runs a few workers that lease due jobs from
//! `crm.mail_jobs` and take each email through its state machine.
//!
//! | status | what happens when a worker picks the job up |
//! |---|---|
//! | `queued`, `sending` | a new attempt: `sending`, `attempts + 1` (a `sending` one was cut short before the server got the content) |
//! | `delivering` | the attempt died after the server started receiving the content: it may have the message, so it is never sent again; SENT with `deliveryUnconfirmed` |
//! | `sent`, `failed`, `bounced` | nothing; the job is dropped |
//!
//! An attempt moves `sending` → `delivering` in its own committed write just before the content
//! goes out, and every write it makes names the attempt number, so an attempt that lost its
//! lease (another worker took over) changes nothing and sends nothing.

use std::sync::Arc;
use std::time::Duration;

use crm_entities::events::communication::{EmailFailed, EmailSent};
use crm_entities::ids::{ContactId, DealId, EmailId};
use crm_entities::tenant::email::{self, EmailPurpose, EmailStatus};
use crm_platform::config::MailSettings;
use crm_platform::events::{self, Envelope};
use crm_platform::sql::Sql;
use crm_platform::{ApiResult, Db, TenantId, TenantTx};
use lettre::message::Mailbox;
use sea_orm::{ConnectionTrait, EntityTrait, FromQueryResult, QuerySelect};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::tracking;
use super::transport::{Outcome, Outgoing, Transport};

/// Workers per replica: each holds at most one SMTP conversation.
const WORKERS: usize = 4;
/// How long a worker holds a job without renewing it: a worker that died lets its job go
/// after this long.
const LEASE: Duration = Duration::from_secs(30);
/// How often a worker renews the lease of the job it is working on.
const RENEW_EVERY: Duration = Duration::from_secs(10);
/// How often an idle worker looks for work.
const IDLE_POLL: Duration = Duration::from_millis(500);
/// The longest wait between attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(6 * 3600);

/// What the bodies of mail holding one-time links (invitations, password resets) become once
/// the email is done with: nobody reads those links back out of the database.
const SCRUBBED: &str = "(removed once sent: it held a one-time link)";

pub struct Sender {
    db: Db,
    transport: Transport,
    settings: MailSettings,
    domain: String,
}

impl Sender {
    pub fn new(db: Db, settings: &MailSettings) -> Result<Self, String> {
        let transport = Transport::from_settings(settings)?;
        let domain = transport.from_domain();
        Ok(Self { db, transport, settings: settings.clone(), domain })
    }

    pub fn describe(&self) -> String {
        self.transport.describe()
    }

    /// Runs the workers until `shutdown`; an attempt under way is finished first.
    pub async fn run(self, shutdown: CancellationToken) {
        let sender = Arc::new(self);
        let workers = (0..WORKERS).map(|_| {
            let sender = sender.clone();
            let shutdown = shutdown.clone();
            async move {
                while !shutdown.is_cancelled() {
                    let pause = match sender.next().await {
                        Ok(true) => continue,
                        Ok(false) => IDLE_POLL,
                        Err(err) => {
                            tracing::warn!(error = ?err, "the mail sender could not work; will retry");
                            IDLE_POLL * 4
                        }
                    };
                    tokio::select! {
                        () = shutdown.cancelled() => return,
                        () = tokio::time::sleep(pause) => {}
                    }
                }
            }
        });
        futures::future::join_all(workers).await;
    }

    /// Works on one due job, if there is one.
    pub async fn next(&self) -> ApiResult<bool> {
        let Some(job) = self.claim().await? else { return Ok(false) };
        self.work(TenantId(job.tenant_id), EmailId(job.email_id)).await?;
        Ok(true)
    }

    async fn claim(&self) -> ApiResult<Option<Job>> {
        let mut sql = Sql::new("UPDATE crm.mail_jobs SET lease_until = now() + make_interval(secs => ");
        sql.bind(LEASE.as_secs_f64()).push(
            ") WHERE email_id = (SELECT email_id FROM crm.mail_jobs
               WHERE due_at <= now() AND (lease_until IS NULL OR lease_until < now())
                 -- A deleted organization sends nothing more; its jobs go with it when purged.
                 AND tenant_id IN (SELECT id FROM crm.tenants WHERE deleted_at IS NULL)
               ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED)
             RETURNING email_id, tenant_id",
        );
        Ok(Job::find_by_statement(sql.statement()).one(self.db.conn()).await?)
    }

    async fn work(&self, tenant: TenantId, id: EmailId) -> ApiResult<()> {
        let Some((email, attempt)) = self.begin_attempt(tenant, id).await? else { return Ok(()) };
        let outgoing = self.outgoing(tenant, &email);
        let outcome = match outgoing {
            Ok(outgoing) => {
                let db = &self.db;
                let delivery = self.transport.deliver(&outgoing, || mark_delivering(db, tenant, id, attempt));
                let renewals = self.renew_lease(id);
                futures::pin_mut!(delivery, renewals);
                match futures::future::select(delivery, renewals).await {
                    futures::future::Either::Left((outcome, _)) => outcome,
                    futures::future::Either::Right((never, _)) => match never {},
                }
            }
            Err(reason) => Outcome::Refused(reason),
        };
        if let Outcome::Deferred(reason) | Outcome::Unconfirmed(reason) = &outcome {
            tracing::info!(email = %id.0, attempt, reason, "email not confirmed on this attempt");
        }
        self.finish(tenant, &email, attempt, outcome).await
    }

    /// Keeps the lease on `id` while an attempt runs (never returns; dropped when it ends).
    async fn renew_lease(&self, id: EmailId) -> std::convert::Infallible {
        loop {
            tokio::time::sleep(RENEW_EVERY).await;
            let mut sql = Sql::new("UPDATE crm.mail_jobs SET lease_until = now() + make_interval(secs => ");
            sql.bind(LEASE.as_secs_f64()).push(") WHERE email_id = ").bind(id.0);
            if let Err(err) = self.db.conn().execute(sql.statement()).await {
                tracing::warn!(email = %id.0, error = ?err, "could not renew a mail job's lease");
            }
        }
    }

    /// Starts an attempt, or settles an email whose last attempt died (see the module table).
    async fn begin_attempt(&self, tenant: TenantId, id: EmailId) -> ApiResult<Option<(email::Model, i32)>> {
        let tx = TenantTx::begin(&self.db, tenant).await?;
        let email = email::Entity::find_by_id(id.0).lock_exclusive().one(&*tx).await?;
        let Some(email) = email else {
            drop_job(&tx, id).await?;
            tx.commit().await?;
            return Ok(None);
        };
        match email.status {
            EmailStatus::Sent | EmailStatus::Failed | EmailStatus::Bounced => {
                drop_job(&tx, id).await?;
                tx.commit().await?;
                Ok(None)
            }
            EmailStatus::Delivering => {
                let reason = "the sender stopped after handing the message to the server, before its reply; \
                              it is not sent again";
                settle(&tx, &email, email.attempts, Settled::Sent { unconfirmed: Some(reason.to_owned()) })
                    .await?;
                tx.commit().await?;
                Ok(None)
            }
            EmailStatus::Queued | EmailStatus::Sending => {
                let attempt = email.attempts + 1;
                let message_id = format!("<{}@{}>", email.id.simple(), self.domain);
                let mut sql = Sql::new("UPDATE emails SET status = 'sending', attempts = ");
                sql.bind(attempt).push(", message_id = coalesce(message_id, ").bind(message_id);
                sql.push(") WHERE id = ").bind(id.0);
                tx.execute(sql.statement()).await?;
                let email = email::Entity::find_by_id(id.0).one(&*tx).await?.unwrap_or(email);
                tx.commit().await?;
                Ok(Some((email, attempt)))
            }
        }
    }

    fn outgoing(&self, tenant: TenantId, email: &email::Model) -> Result<Outgoing, String> {
        let address = email.to_address.parse().map_err(|err| format!("the recipient address: {err}"))?;
        let to = Mailbox::new(email.to_name.clone(), address);
        let html = match (&email.html_body, &email.tracking_key) {
            (Some(html), Some(key)) => {
                Some(tracking::rewrite(html, &self.settings.tracking_base_url, key, tenant.0, email.id))
            }
            (html, _) => html.clone(),
        };
        Ok(Outgoing {
            message_id: email.message_id.clone().unwrap_or_default(),
            to,
            subject: email.subject.clone(),
            text: email.text_body.clone(),
            html,
        })
    }

    async fn finish(
        &self,
        tenant: TenantId,
        email: &email::Model,
        attempt: i32,
        outcome: Outcome,
    ) -> ApiResult<()> {
        let tx = TenantTx::begin(&self.db, tenant).await?;
        let settled = match outcome {
            Outcome::Accepted => Settled::Sent { unconfirmed: None },
            Outcome::Unconfirmed(reason) => Settled::Sent { unconfirmed: Some(reason) },
            Outcome::Refused(reason) => Settled::Failed { reason, bounced: false },
            Outcome::Bounced(reason) => Settled::Failed { reason, bounced: true },
            Outcome::Deferred(reason) if attempt as u32 >= self.settings.max_attempts => Settled::Failed {
                reason: format!("still failing after {attempt} attempts: {reason}"),
                bounced: false,
            },
            Outcome::Deferred(reason) => {
                let wait = backoff(self.settings.retry_after, attempt);
                Settled::Retry { reason: Some(reason), after: wait }
            }
            Outcome::Superseded => Settled::Retry { reason: None, after: Duration::ZERO },
        };
        let outcome = match &settled {
            Settled::Sent { .. } => "sent",
            Settled::Failed { .. } => "failed",
            Settled::Retry { .. } => "retried",
        };
        crm_platform::metrics::METRICS.emails.with_label_values(&[outcome]).inc();
        settle(&tx, email, attempt, settled).await?;
        tx.commit().await
    }
}

#[derive(FromQueryResult)]
struct Job {
    email_id: Uuid,
    tenant_id: Uuid,
}

/// The wait after failed attempt number `attempt` (1-based): `first`, then 4× longer each time.
pub fn backoff(first: Duration, attempt: i32) -> Duration {
    let factor = 4u32.saturating_pow(attempt.saturating_sub(1).clamp(0, 16) as u32);
    first.saturating_mul(factor).min(MAX_BACKOFF)
}

/// Records, before the content goes out, that this attempt is handing the message over; false
/// when the attempt no longer holds the email (or the record could not be made), and then
/// nothing is sent.
async fn mark_delivering(db: &Db, tenant: TenantId, id: EmailId, attempt: i32) -> bool {
    let marked = async {
        let tx = TenantTx::begin(db, tenant).await?;
        // The commit returns without waiting for the disk flush: the content goes out sooner, so
        // a sender killed in between loses (unconfirmed) fewer messages. The record is visible at
        // once to every other sender; only a PostgreSQL crash in the flush delay (well under a
        // second) can forget it and let the message be sent again.
        tx.execute_unprepared("SET LOCAL synchronous_commit = off").await?;
        let mut sql = Sql::new(
            "UPDATE emails SET status = 'delivering', delivering_at = now() WHERE status = 'sending'",
        );
        sql.push(" AND attempts = ").bind(attempt).push(" AND id = ").bind(id.0);
        let rows = tx.execute(sql.statement()).await?.rows_affected();
        tx.commit().await?;
        ApiResult::Ok(rows == 1)
    };
    marked.await.unwrap_or_else(|err| {
        tracing::warn!(email = %id.0, error = ?err, "could not record the hand-over; not sending");
        false
    })
}

enum Settled {
    Sent {
        unconfirmed: Option<String>,
    },
    Failed {
        reason: String,
        bounced: bool,
    },
    /// Back to the queue, due after the wait.
    Retry {
        reason: Option<String>,
        after: Duration,
    },
}

/// Writes where attempt `attempt` left `email`, if that attempt still holds it.
async fn settle(tx: &TenantTx, email: &email::Model, attempt: i32, settled: Settled) -> ApiResult<()> {
    let id = EmailId(email.id);
    let mut sql = Sql::new("UPDATE emails SET ");
    let event = match &settled {
        Settled::Sent { unconfirmed } => {
            sql.push("status = 'sent', sent_at = coalesce(delivering_at, now()), last_error = ")
                .bind(unconfirmed.clone())
                .push(", delivery_unconfirmed = ")
                .bind(unconfirmed.is_some());
            let sent = EmailSent {
                email_id: id,
                contact_id: email.contact_id.map(ContactId),
                deal_id: email.deal_id.map(DealId),
                attempts: attempt,
                unconfirmed: unconfirmed.is_some(),
            };
            Some(Envelope::new(tx.tenant(), None, &sent)?)
        }
        Settled::Failed { reason, bounced } => {
            let status = if *bounced { "bounced" } else { "failed" };
            sql.push("status = ")
                .bind(status)
                .push(", failed_at = now(), last_error = ")
                .bind(reason.clone());
            let failed = EmailFailed {
                email_id: id,
                contact_id: email.contact_id.map(ContactId),
                deal_id: email.deal_id.map(DealId),
                attempts: attempt,
                bounced: *bounced,
                reason: reason.clone(),
            };
            Some(Envelope::new(tx.tenant(), None, &failed)?)
        }
        Settled::Retry { reason, after } => {
            sql.push("status = 'queued', next_attempt_at = now() + make_interval(secs => ")
                .bind(after.as_secs_f64())
                .push("), last_error = coalesce(")
                .bind(reason.clone())
                .push(", last_error)");
            None
        }
    };
    if event.is_some() && matches!(email.purpose, EmailPurpose::Invitation | EmailPurpose::Reset) {
        sql.push(", html_body = NULL, links = '{}', text_body = ").bind(SCRUBBED);
    }
    sql.push(" WHERE status IN ('sending', 'delivering') AND attempts = ").bind(attempt);
    sql.push(" AND id = ").bind(id.0);
    if tx.execute(sql.statement()).await?.rows_affected() == 0 {
        // Another attempt holds the email now; it decides.
        return Ok(());
    }
    match (event, settled) {
        (Some(event), _) => {
            events::enqueue(&**tx, &event).await?;
            drop_job(tx, id).await
        }
        (None, Settled::Retry { after, .. }) => {
            let mut job = Sql::new(
                "UPDATE crm.mail_jobs SET lease_until = NULL, due_at = now() + make_interval(secs => ",
            );
            job.bind(after.as_secs_f64()).push(") WHERE email_id = ").bind(id.0);
            tx.execute(job.statement()).await?;
            Ok(())
        }
        (None, _) => Ok(()),
    }
}

async fn drop_job(tx: &TenantTx, id: EmailId) -> ApiResult<()> {
    let mut sql = Sql::new("DELETE FROM crm.mail_jobs WHERE email_id = ");
    sql.bind(id.0);
    tx.execute(sql.statement()).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_fourfold_up_to_six_hours() {
        let first = Duration::from_secs(60);
        assert_eq!(backoff(first, 1), Duration::from_secs(60));
        assert_eq!(backoff(first, 2), Duration::from_secs(240));
        assert_eq!(backoff(first, 3), Duration::from_secs(960));
        assert_eq!(backoff(first, 30), MAX_BACKOFF);
        assert_eq!(backoff(Duration::ZERO, 5), Duration::ZERO);
    }
}
