//! Events of the communication subgraph.

use crm_platform::events::DomainEvent;
use serde::{Deserialize, Serialize};

use crate::events::contact::Changes;
use crate::ids::{ActivityId, CompanyId, ContactId, DealId, EmailId, TaskId};
use crate::tenant::activity::ActivityType;
use chrono::{DateTime, Utc};
use crm_platform::ids::UserId;

/// A note, call, email, meeting or task was logged against a deal, contact and/or company.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ActivityLogged {
    pub activity_id: ActivityId,
    pub deal_id: Option<DealId>,
    pub contact_id: Option<ContactId>,
    #[serde(default)]
    pub company_id: Option<CompanyId>,
    #[serde(rename = "type")]
    pub activity_type: ActivityType,
}

impl DomainEvent for ActivityLogged {
    const TYPE: &'static str = "activity.logged";
}

/// Fields of an activity changed (`updateActivity`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ActivityUpdated {
    pub activity_id: ActivityId,
    pub changes: Changes,
}

impl DomainEvent for ActivityUpdated {
    const TYPE: &'static str = "activity.updated";
}

/// An activity was deleted (`deleteActivity`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ActivityDeleted {
    pub activity_id: ActivityId,
    pub deal_id: Option<DealId>,
    pub contact_id: Option<ContactId>,
    pub company_id: Option<CompanyId>,
}

impl DomainEvent for ActivityDeleted {
    const TYPE: &'static str = "activity.deleted";
}

/// A task was created (`createTask`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TaskCreated {
    pub task_id: TaskId,
    pub assignee_id: Option<UserId>,
    pub due_at: Option<DateTime<Utc>>,
}

impl DomainEvent for TaskCreated {
    const TYPE: &'static str = "task.created";
}

/// A task was marked done (`completeTask`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TaskCompleted {
    pub task_id: TaskId,
    pub completed_by: UserId,
}

impl DomainEvent for TaskCompleted {
    const TYPE: &'static str = "task.completed";
}

/// A task's reminder time came (`remindAt`), once per reminder.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TaskReminderDue {
    pub task_id: TaskId,
    pub assignee_id: Option<UserId>,
    pub title: String,
    pub remind_at: DateTime<Utc>,
    pub due_at: Option<DateTime<Utc>>,
}

impl DomainEvent for TaskReminderDue {
    const TYPE: &'static str = "task.reminder_due";
}

/// An email was stored and queued for sending (`sendEmail`, or a flow such as the welcome mail).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EmailQueued {
    pub email_id: EmailId,
    pub purpose: String,
    pub contact_id: Option<ContactId>,
    pub deal_id: Option<DealId>,
    pub sender_id: Option<UserId>,
}

impl DomainEvent for EmailQueued {
    const TYPE: &'static str = "email.queued";
}

/// The SMTP server accepted an email (or, with `unconfirmed`, was handed it by a sender that
/// stopped before hearing back; it is never sent again).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EmailSent {
    pub email_id: EmailId,
    pub contact_id: Option<ContactId>,
    pub deal_id: Option<DealId>,
    pub attempts: i32,
    pub unconfirmed: bool,
}

impl DomainEvent for EmailSent {
    const TYPE: &'static str = "email.sent";
}

/// An email will not be sent: refused by the server (`bounced` when the recipient was refused)
/// or still failing after the last retry.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EmailFailed {
    pub email_id: EmailId,
    pub contact_id: Option<ContactId>,
    pub deal_id: Option<DealId>,
    pub attempts: i32,
    pub bounced: bool,
    pub reason: String,
}

impl DomainEvent for EmailFailed {
    const TYPE: &'static str = "email.failed";
}

/// A tracked email was opened (its pixel was loaded); every open, `first` on the first.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EmailOpened {
    pub email_id: EmailId,
    pub contact_id: Option<ContactId>,
    pub first: bool,
}

impl DomainEvent for EmailOpened {
    const TYPE: &'static str = "email.opened";
}

/// A link in a tracked email was followed.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EmailClicked {
    pub email_id: EmailId,
    pub contact_id: Option<ContactId>,
    pub url: String,
}

impl DomainEvent for EmailClicked {
    const TYPE: &'static str = "email.clicked";
}
