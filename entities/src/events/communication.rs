//! Events of the communication subgraph.

use crm_platform::events::DomainEvent;
use serde::{Deserialize, Serialize};

use crate::events::contact::Changes;
use crate::ids::{ActivityId, CompanyId, ContactId, DealId, TaskId};
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
