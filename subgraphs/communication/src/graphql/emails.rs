//! Email to contacts: sending, listing, what became of each, and the organization's mail
//! settings.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use chrono::{DateTime, Utc};
use crm_entities::ids::{CompanyId, ContactId, DealId, EmailId, EmailTemplateId};
use crm_entities::tenant::email::{self, EmailPurpose, EmailStatus};
use crm_platform::ids::UserId;
use crm_platform::pagination::PageRequest;
use crm_platform::user_ref::UserRef;
use crm_platform::{Caller, Role};

use super::types::{CompanyRef, ContactRef, DealRef};
use crate::emails::{self, EmailFilter, SendRequest};
use crate::mail::settings::{self, SettingsChange};

/// An email: queued in the request that sent it, then delivered by the sender over SMTP.
pub struct Email(pub email::Model);

#[Object]
impl Email {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    async fn status(&self) -> EmailStatus {
        self.0.status
    }
    async fn purpose(&self) -> EmailPurpose {
        self.0.purpose
    }
    /// The recipient's address.
    async fn to(&self) -> &str {
        &self.0.to_address
    }
    async fn to_name(&self) -> Option<&str> {
        self.0.to_name.as_deref()
    }
    async fn subject(&self) -> &str {
        &self.0.subject
    }
    async fn text(&self) -> &str {
        &self.0.text_body
    }
    /// The HTML as written (tracked links appear here as they were, not as redirects).
    async fn html(&self) -> Option<&str> {
        self.0.html_body.as_deref()
    }
    /// The `Message-ID` header, the same on every attempt; set at the first attempt.
    async fn message_id(&self) -> Option<&str> {
        self.0.message_id.as_deref()
    }
    async fn contact(&self) -> Option<ContactRef> {
        self.0.contact_id.map(|id| ContactRef(ContactId(id)))
    }
    async fn company(&self) -> Option<CompanyRef> {
        self.0.company_id.map(|id| CompanyRef(CompanyId(id)))
    }
    async fn deal(&self) -> Option<DealRef> {
        self.0.deal_id.map(|id| DealRef(DealId(id)))
    }
    async fn template_id(&self) -> Option<ID> {
        self.0.template_id.map(ID::from)
    }
    /// Who sent it; null for mail the system sends (a won deal's follow-up).
    async fn sender(&self) -> Option<UserRef> {
        UserRef::of(self.0.sender_id)
    }
    /// Attempts made so far.
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    /// When the next attempt is due, while QUEUED.
    async fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        self.0.next_attempt_at.filter(|_| self.0.status == EmailStatus::Queued)
    }
    /// The server's last refusal or the connection error (why it FAILED, BOUNCED or waits).
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    /// SENT without hearing the server's final reply (the sender stopped right after handing
    /// the message over); it is never sent again.
    async fn delivery_unconfirmed(&self) -> bool {
        self.0.delivery_unconfirmed
    }
    /// Whether opens and clicks are followed.
    async fn tracked(&self) -> bool {
        self.0.tracking_key.is_some()
    }
    async fn queued_at(&self) -> DateTime<Utc> {
        self.0.queued_at
    }
    async fn sent_at(&self) -> Option<DateTime<Utc>> {
        self.0.sent_at
    }
    async fn failed_at(&self) -> Option<DateTime<Utc>> {
        self.0.failed_at
    }
    /// The first open (or click).
    async fn opened_at(&self) -> Option<DateTime<Utc>> {
        self.0.opened_at
    }
    /// Times the open pixel was loaded.
    async fn opens(&self) -> i32 {
        self.0.open_count
    }
    /// Times a link was followed.
    async fn clicks(&self) -> i32 {
        self.0.click_count
    }
}

/// To a contact (`contactId`, at their address) or an address (`to`); from a template
/// (`templateId`, rendered for the contact and deal) or written here (`subject` with `text`
/// and/or `html`).
#[derive(InputObject)]
pub struct SendEmailInput {
    pub contact_id: Option<ID>,
    pub to: Option<String>,
    pub template_id: Option<ID>,
    pub subject: Option<String>,
    pub text: Option<String>,
    pub html: Option<String>,
    /// The deal it is about: its variables for a template, and its timeline.
    pub deal_id: Option<ID>,
}

#[derive(InputObject, Default)]
pub struct EmailFilterInput {
    pub contact_id: Option<ID>,
    pub company_id: Option<ID>,
    pub deal_id: Option<ID>,
    pub sender_id: Option<ID>,
    pub status: Option<EmailStatus>,
}

/// The organization's mail settings.
#[derive(SimpleObject)]
pub struct MailSettings {
    /// Follow opens and clicks of mail to contacts (pixel and link redirects).
    pub tracking: bool,
    /// When a deal is won, email its primary contact a follow-up.
    pub deal_won_follow_up: bool,
    /// The follow-up's template; without one a short thank-you is sent.
    pub deal_won_template_id: Option<ID>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl From<settings::MailSettings> for MailSettings {
    fn from(s: settings::MailSettings) -> Self {
        Self {
            tracking: s.tracking,
            deal_won_follow_up: s.deal_won_follow_up,
            deal_won_template_id: s.deal_won_template_id.map(ID::from),
            updated_at: s.updated_at,
        }
    }
}

#[derive(InputObject)]
pub struct UpdateMailSettingsInput {
    pub tracking: Option<bool>,
    pub deal_won_follow_up: Option<bool>,
    /// `null` goes back to the built-in follow-up.
    pub deal_won_template_id: MaybeUndefined<ID>,
}

#[derive(Default)]
pub struct EmailQuery;

#[Object]
impl EmailQuery {
    /// Mail to contacts, newest first. Pass the last one's id as `after` for the next page.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn emails(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<ID>,
        filter: Option<EmailFilterInput>,
    ) -> async_graphql::Result<Vec<Email>> {
        let filter = filter.unwrap_or_default();
        let filter = EmailFilter {
            contact: filter.contact_id.as_ref().map(|id| ContactId::parse(id, "contactId")).transpose()?,
            company: filter.company_id.as_ref().map(|id| CompanyId::parse(id, "companyId")).transpose()?,
            deal: filter.deal_id.as_ref().map(|id| DealId::parse(id, "dealId")).transpose()?,
            sender: filter.sender_id.as_ref().map(|id| UserId::parse(id, "senderId")).transpose()?,
            status: filter.status,
        };
        let size = PageRequest::parse(first, None)?.size;
        let after = after.as_ref().map(|id| EmailId::parse(id, "after")).transpose()?;
        let tx = Caller::of(ctx)?.tx().await?;
        let rows = emails::list(&tx, filter, size, after).await?;
        tx.commit().await?;
        Ok(rows.into_iter().map(Email).collect())
    }

    async fn email(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Email> {
        let id = EmailId::parse(&id, "id")?;
        let tx = Caller::of(ctx)?.tx().await?;
        let email = emails::find(&tx, id).await?;
        tx.commit().await?;
        Ok(Email(email))
    }

    async fn mail_settings(&self, ctx: &Context<'_>) -> async_graphql::Result<MailSettings> {
        let tx = Caller::of(ctx)?.tx().await?;
        let settings = settings::load(&tx).await?;
        tx.commit().await?;
        Ok(settings.into())
    }
}

#[derive(Default)]
pub struct EmailMutation;

#[Object]
impl EmailMutation {
    /// Stores the email and queues it, in this request's transaction; it is QUEUED when this
    /// returns and the sender delivers it.
    async fn send_email(&self, ctx: &Context<'_>, input: SendEmailInput) -> async_graphql::Result<Email> {
        let caller = Caller::of(ctx)?;
        let request = SendRequest {
            contact: input.contact_id.as_ref().map(|id| ContactId::parse(id, "contactId")).transpose()?,
            to: input.to,
            template: input
                .template_id
                .as_ref()
                .map(|id| EmailTemplateId::parse(id, "templateId"))
                .transpose()?,
            subject: input.subject,
            text: input.text,
            html: input.html,
            deal: input.deal_id.as_ref().map(|id| DealId::parse(id, "dealId")).transpose()?,
        };
        let tx = caller.write_tx().await?;
        let email = emails::send(&tx, caller.user(), request).await?;
        tx.commit().await?;
        Ok(Email(email))
    }

    /// Admins and owners.
    async fn update_mail_settings(
        &self,
        ctx: &Context<'_>,
        input: UpdateMailSettingsInput,
    ) -> async_graphql::Result<MailSettings> {
        let caller = Caller::of(ctx)?;
        caller.require(Role::Admin)?;
        let template = match input.deal_won_template_id {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(id) => Some(Some(EmailTemplateId::parse(&id, "dealWonTemplateId")?)),
        };
        let change = SettingsChange {
            tracking: input.tracking,
            deal_won_follow_up: input.deal_won_follow_up,
            deal_won_template: template,
        };
        let tx = caller.write_tx().await?;
        let settings = settings::update(&tx, change).await?;
        tx.commit().await?;
        Ok(settings.into())
    }
}
