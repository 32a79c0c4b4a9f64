//! Queueing an email: stored with everything needed to send it, a job for the senders and
//! `email.queued`, all in the caller's transaction, so an email exists exactly when what caused
//! it committed.

use chrono::Utc;
use crm_entities::events::communication::EmailQueued;
use crm_entities::ids::{CompanyId, ContactId, DealId, EmailId, EmailTemplateId};
use crm_entities::tenant::email::{self, EmailPurpose, EmailStatus};
use crm_platform::events::{self, Envelope};
use crm_platform::ids::UserId;
use crm_platform::sql::Sql;
use crm_platform::{ApiError, ApiResult, TenantTx};
use lettre::Address;
use rand::RngCore;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};

use super::settings;
use super::tracking::links_of;

/// Longest subject kept; longer ones are refused.
const MAX_SUBJECT: usize = 998;
/// Largest body (text or HTML) kept.
const MAX_BODY: usize = 512 * 1024;

/// An email to queue.
pub struct NewEmail {
    pub purpose: EmailPurpose,
    pub to_address: String,
    pub to_name: Option<String>,
    pub contact: Option<ContactId>,
    pub company: Option<CompanyId>,
    pub deal: Option<DealId>,
    pub template: Option<EmailTemplateId>,
    /// The member who sent it; `None` for the system's own mail.
    pub sender: Option<UserId>,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
}

/// `raw` if it is an address mail can go to; BAD_USER_INPUT on `field` otherwise.
pub fn parse_address(raw: &str, field: &'static str) -> ApiResult<String> {
    let trimmed = raw.trim();
    trimmed
        .parse::<Address>()
        .map(|address| address.to_string())
        .map_err(|_| ApiError::bad_input(field, format!("{field} is not an email address")))
}

pub async fn queue(tx: &TenantTx, new: NewEmail) -> ApiResult<email::Model> {
    let to_address = parse_address(&new.to_address, "to")?;
    if new.subject.trim().is_empty() {
        return Err(ApiError::bad_input("subject", "subject is required"));
    }
    if new.subject.chars().count() > MAX_SUBJECT || new.subject.contains(['\r', '\n']) {
        return Err(ApiError::bad_input("subject", "subject must be one line of at most 998 characters"));
    }
    if new.text.len() > MAX_BODY || new.html.as_ref().is_some_and(|h| h.len() > MAX_BODY) {
        return Err(ApiError::bad_input("text", "a body may hold at most 512 KiB"));
    }
    // Opens and clicks are followed on mail to contacts, when the organization allows it.
    let tracked = new.purpose.is_to_contacts() && new.html.is_some() && settings::load(tx).await?.tracking;
    let tracking_key = tracked.then(|| {
        let mut key = vec![0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        key
    });
    let links = match (&new.html, tracked) {
        (Some(html), true) => links_of(html),
        _ => Vec::new(),
    };
    let id = EmailId::new();
    let now = Utc::now();
    let email = email::ActiveModel {
        id: Set(id.0),
        // Fixed at the first attempt, from the sender's domain.
        message_id: Set(None),
        purpose: Set(new.purpose),
        status: Set(EmailStatus::Queued),
        to_address: Set(to_address),
        to_name: Set(new.to_name.filter(|n| !n.trim().is_empty())),
        contact_id: Set(new.contact.map(|c| c.0)),
        company_id: Set(new.company.map(|c| c.0)),
        deal_id: Set(new.deal.map(|d| d.0)),
        template_id: Set(new.template.map(|t| t.0)),
        sender_id: Set(new.sender.map(|u| u.0)),
        subject: Set(new.subject),
        text_body: Set(new.text),
        html_body: Set(new.html),
        links: Set(links),
        tracking_key: Set(tracking_key),
        attempts: Set(0),
        next_attempt_at: Set(Some(now)),
        last_error: Set(None),
        delivery_unconfirmed: Set(false),
        queued_at: Set(now),
        delivering_at: Set(None),
        sent_at: Set(None),
        failed_at: Set(None),
        opened_at: Set(None),
        open_count: Set(0),
        click_count: Set(0),
    }
    .insert(&**tx)
    .await?;
    let mut job = Sql::new("INSERT INTO crm.mail_jobs (email_id, tenant_id, due_at) VALUES (");
    job.bind(id.0).push(", ").bind(tx.tenant().0).push(", now())");
    tx.execute(job.statement()).await?;
    let queued = EmailQueued {
        email_id: id,
        purpose: sea_orm::ActiveEnum::to_value(&email.purpose),
        contact_id: new.contact,
        deal_id: new.deal,
        sender_id: new.sender,
    };
    events::enqueue(&**tx, &Envelope::new(tx.tenant(), new.sender, &queued)?).await?;
    Ok(email)
}
