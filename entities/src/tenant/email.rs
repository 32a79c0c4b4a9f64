use sea_orm::entity::prelude::*;

crm_platform::stored_enum! {
    /// Where an email is in its life: QUEUED (waiting for an attempt), SENDING (an attempt is
    /// talking to the server), DELIVERING (the server is receiving the message), then SENT,
    /// FAILED (refused, or still failing after the last retry) or BOUNCED (the recipient was
    /// refused).
    pub enum EmailStatus {
        Queued,
        Sending,
        Delivering,
        Sent,
        Failed,
        Bounced,
    }
}

crm_platform::stored_enum! {
    /// Why an email exists: CRM (a member sent it), FOLLOWUP (a deal was won), or a message to
    /// a member: WELCOME, INVITATION, RESET (password), REMINDER (task) or NOTICE (about the
    /// organization's setup: a webhook disabled, say).
    pub enum EmailPurpose {
        Crm,
        Followup,
        Welcome,
        Invitation,
        Reset,
        Reminder,
        Notice,
    }
}

impl EmailPurpose {
    /// Emails to contacts, which members see and the timeline shows; the others go to members
    /// and some hold one-time links.
    pub fn is_to_contacts(self) -> bool {
        matches!(self, Self::Crm | Self::Followup)
    }
}

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "emails")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub message_id: Option<String>,
    pub purpose: EmailPurpose,
    pub status: EmailStatus,
    pub to_address: String,
    pub to_name: Option<String>,
    pub contact_id: Option<Uuid>,
    pub company_id: Option<Uuid>,
    pub deal_id: Option<Uuid>,
    pub template_id: Option<Uuid>,
    pub sender_id: Option<Uuid>,
    pub subject: String,
    pub text_body: String,
    pub html_body: Option<String>,
    pub links: Vec<String>,
    pub tracking_key: Option<Vec<u8>>,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub delivery_unconfirmed: bool,
    pub queued_at: DateTimeUtc,
    pub delivering_at: Option<DateTimeUtc>,
    pub sent_at: Option<DateTimeUtc>,
    pub failed_at: Option<DateTimeUtc>,
    pub opened_at: Option<DateTimeUtc>,
    pub open_count: i32,
    pub click_count: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
