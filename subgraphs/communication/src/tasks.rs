//! Tasks: something to do, for a member of the organization, maybe about a contact, company or
//! deal, with a due time, a priority and a reminder time. Overdue = open and past due.

use chrono::{DateTime, Utc};
use crm_entities::events::communication::{TaskCompleted, TaskCreated};
use crm_entities::global::member;
use crm_entities::ids::{CompanyId, ContactId, DealId, TaskId};
use crm_entities::tenant::task::{self, TaskPriority, TaskStatus};
use crm_platform::error::is_foreign_key_violation;
use crm_platform::events::{self, Envelope};
use crm_platform::ids::UserId;
use crm_platform::sql::{Sql, columns};
use crm_platform::{ApiError, ApiResult, TenantTx};
use sea_orm::{ActiveModelTrait, DbErr, EntityTrait, QuerySelect, Set};
use uuid::Uuid;

use crate::reminders;

/// A task's fields; `None` keeps what an update does not name, `Some(None)` clears.
#[derive(Default)]
pub struct TaskFields {
    pub title: Option<String>,
    pub notes: Option<Option<String>>,
    pub due_at: Option<Option<DateTime<Utc>>>,
    pub remind_at: Option<Option<DateTime<Utc>>>,
    pub assignee: Option<Option<UserId>>,
    pub priority: Option<TaskPriority>,
    pub contact: Option<Option<ContactId>>,
    pub company: Option<Option<CompanyId>>,
    pub deal: Option<Option<DealId>>,
}

async fn check_assignee(tx: &TenantTx, assignee: Option<UserId>) -> ApiResult<()> {
    if let Some(user) = assignee
        && member::find(&**tx, tx.tenant(), user.0).await?.is_none()
    {
        return Err(ApiError::bad_input("assigneeId", "assigneeId is not a member of this organization"));
    }
    Ok(())
}

fn apply(active: &mut task::ActiveModel, fields: TaskFields) {
    if let Some(title) = fields.title {
        active.title = Set(title);
    }
    if let Some(notes) = fields.notes {
        active.notes = Set(notes);
    }
    if let Some(due) = fields.due_at {
        active.due_at = Set(due);
    }
    if let Some(remind) = fields.remind_at {
        // A new reminder time is a new reminder.
        active.remind_at = Set(remind);
        active.reminded_at = Set(None);
    }
    if let Some(assignee) = fields.assignee {
        active.assignee_id = Set(assignee.map(|u| u.0));
    }
    if let Some(priority) = fields.priority {
        active.priority = Set(priority);
    }
    if let Some(contact) = fields.contact {
        active.contact_id = Set(contact.map(|c| c.0));
    }
    if let Some(company) = fields.company {
        active.company_id = Set(company.map(|c| c.0));
    }
    if let Some(deal) = fields.deal {
        active.deal_id = Set(deal.map(|d| d.0));
    }
}

/// Creates a task, by `actor` (`None`: the system, such as a deal's follow-up); assigned to
/// the actor unless `fields` say otherwise.
pub async fn create_task(tx: &TenantTx, actor: Option<UserId>, fields: TaskFields) -> ApiResult<task::Model> {
    let assignee = fields.assignee.unwrap_or(actor);
    check_assignee(tx, assignee).await?;
    let now = Utc::now();
    let mut active = task::ActiveModel {
        id: Set(TaskId::new().0),
        title: Set(String::new()),
        notes: Set(None),
        due_at: Set(None),
        remind_at: Set(None),
        reminded_at: Set(None),
        assignee_id: Set(None),
        priority: Set(TaskPriority::Normal),
        status: Set(TaskStatus::Open),
        completed_at: Set(None),
        completed_by: Set(None),
        contact_id: Set(None),
        company_id: Set(None),
        deal_id: Set(None),
        created_by: Set(actor.map(|a| a.0)),
        created_at: Set(now),
        updated_at: Set(now),
    };
    apply(&mut active, TaskFields { assignee: Some(assignee), ..fields });
    let task = active.insert(&**tx).await.map_err(reference_error)?;
    reminders::sync(tx, &task).await?;
    let created = TaskCreated { task_id: TaskId(task.id), assignee_id: assignee, due_at: task.due_at };
    events::enqueue(&**tx, &Envelope::new(tx.tenant(), actor, &created)?).await?;
    Ok(task)
}

async fn locked(tx: &TenantTx, id: TaskId) -> ApiResult<task::Model> {
    task::Entity::find_by_id(id.0)
        .lock(sea_orm::sea_query::LockType::Update)
        .one(&**tx)
        .await?
        .ok_or(ApiError::NotFound("task"))
}

pub async fn update_task(tx: &TenantTx, id: TaskId, fields: TaskFields) -> ApiResult<task::Model> {
    let before = locked(tx, id).await?;
    if let Some(assignee) = fields.assignee {
        check_assignee(tx, assignee).await?;
    }
    let mut active: task::ActiveModel = before.into();
    apply(&mut active, fields);
    active.updated_at = Set(Utc::now());
    let task = active.update(&**tx).await.map_err(reference_error)?;
    reminders::sync(tx, &task).await?;
    Ok(task)
}

/// Marks the task done (again: nothing changes).
pub async fn complete_task(tx: &TenantTx, actor: UserId, id: TaskId) -> ApiResult<task::Model> {
    let before = locked(tx, id).await?;
    if before.status == TaskStatus::Done {
        return Ok(before);
    }
    let mut active: task::ActiveModel = before.into();
    let now = Utc::now();
    active.status = Set(TaskStatus::Done);
    active.completed_at = Set(Some(now));
    active.completed_by = Set(Some(actor.0));
    active.updated_at = Set(now);
    let task = active.update(&**tx).await?;
    reminders::sync(tx, &task).await?;
    let completed = TaskCompleted { task_id: id, completed_by: actor };
    events::enqueue(&**tx, &Envelope::new(tx.tenant(), Some(actor), &completed)?).await?;
    Ok(task)
}

pub async fn reopen_task(tx: &TenantTx, id: TaskId) -> ApiResult<task::Model> {
    let before = locked(tx, id).await?;
    let mut active: task::ActiveModel = before.into();
    active.status = Set(TaskStatus::Open);
    active.completed_at = Set(None);
    active.completed_by = Set(None);
    active.updated_at = Set(Utc::now());
    let task = active.update(&**tx).await?;
    reminders::sync(tx, &task).await?;
    Ok(task)
}

pub async fn delete_task(tx: &TenantTx, id: TaskId) -> ApiResult<task::Model> {
    let task = locked(tx, id).await?;
    task::Entity::delete_by_id(task.id).exec(&**tx).await?;
    reminders::forget(tx, TaskId(task.id)).await?;
    Ok(task)
}

fn reference_error(err: DbErr) -> ApiError {
    for (constraint, field, what) in [
        ("tasks_contact_id_fkey", "contactId", "contact"),
        ("tasks_company_id_fkey", "companyId", "company"),
        ("tasks_deal_id_fkey", "dealId", "deal"),
    ] {
        if is_foreign_key_violation(&err, constraint) {
            return ApiError::bad_input(field, format!("{what} not found"));
        }
    }
    err.into()
}

/// What `tasks(filter:)` selects; every part given must hold.
#[derive(Default)]
pub struct TaskFilter {
    pub status: Option<TaskStatus>,
    pub assignee: Option<UserId>,
    pub contact: Option<ContactId>,
    pub company: Option<CompanyId>,
    pub deal: Option<DealId>,
    /// Due before this time.
    pub due_before: Option<DateTime<Utc>>,
    /// Open and past due (true), or not (false).
    pub overdue: Option<bool>,
}

/// Matching tasks by due time (soonest first, undated last), one page after `after`.
pub async fn list_tasks(
    tx: &TenantTx,
    filter: TaskFilter,
    size: u64,
    after: Option<Uuid>,
) -> ApiResult<Vec<task::Model>> {
    use sea_orm::ActiveEnum;
    let mut sql = Sql::new(&format!("SELECT {} FROM tasks WHERE TRUE", columns::<task::Entity>("")));
    if let Some(status) = filter.status {
        sql.push(" AND status = ").bind(status.to_value());
    }
    for (column, id) in [
        ("assignee_id", filter.assignee.map(|u| u.0)),
        ("contact_id", filter.contact.map(|c| c.0)),
        ("company_id", filter.company.map(|c| c.0)),
        ("deal_id", filter.deal.map(|d| d.0)),
    ] {
        if let Some(id) = id {
            sql.push(&format!(" AND {column} = ")).bind(id);
        }
    }
    if let Some(before) = filter.due_before {
        sql.push(" AND due_at < ").bind(before);
    }
    match filter.overdue {
        Some(true) => sql.push(" AND status = 'open' AND due_at < now()"),
        Some(false) => sql.push(" AND NOT (status = 'open' AND due_at IS NOT NULL AND due_at < now())"),
        None => &mut sql,
    };
    // Keyset on (due_at NULLS LAST, id): undated tasks sort after every dated one.
    if let Some(after) = after {
        sql.push(
            " AND (due_at IS NULL, coalesce(due_at, 'infinity'), id) > \
             (SELECT due_at IS NULL, coalesce(due_at, 'infinity'), id FROM tasks WHERE id = ",
        )
        .bind(after)
        .push(")");
    }
    sql.push(" ORDER BY due_at IS NULL, coalesce(due_at, 'infinity'), id LIMIT ").bind(size as i64);
    Ok(task::Entity::find().from_raw_sql(sql.statement()).all(&**tx).await?)
}
