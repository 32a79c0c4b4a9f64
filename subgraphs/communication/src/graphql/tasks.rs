//! Tasks: create, change, complete, reopen, delete, and list (the organization's or the
//! caller's own).

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use chrono::{DateTime, Utc};
use crm_entities::ids::{CompanyId, ContactId, DealId, TaskId};
use crm_entities::tenant::task::{self, TaskPriority, TaskStatus};
use crm_platform::ids::UserId;
use crm_platform::patch::change;
use crm_platform::user_ref::UserRef;
use crm_platform::{ApiResult, Caller, text};

use super::types::{CompanyRef, ContactRef, DealRef};
use crate::tasks::{self as domain, TaskFields, TaskFilter};

/// Something to do, for a member of the organization.
pub struct Task(pub task::Model);

#[Object]
impl Task {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn notes(&self) -> Option<&str> {
        self.0.notes.as_deref()
    }
    async fn due_at(&self) -> Option<DateTime<Utc>> {
        self.0.due_at
    }
    /// When the assignee is reminded.
    async fn remind_at(&self) -> Option<DateTime<Utc>> {
        self.0.remind_at
    }
    async fn assignee(&self) -> Option<UserRef> {
        UserRef::of(self.0.assignee_id)
    }
    async fn priority(&self) -> TaskPriority {
        self.0.priority
    }
    async fn status(&self) -> TaskStatus {
        self.0.status
    }
    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.0.completed_at
    }
    /// Open and past due.
    async fn is_overdue(&self) -> bool {
        self.0.status == TaskStatus::Open && self.0.due_at.is_some_and(|due| due < Utc::now())
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
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

#[derive(InputObject)]
pub struct CreateTaskInput {
    pub title: String,
    pub notes: Option<String>,
    pub due_at: Option<DateTime<Utc>>,
    pub remind_at: Option<DateTime<Utc>>,
    /// A member of the organization; the caller when absent.
    pub assignee_id: Option<ID>,
    pub priority: Option<TaskPriority>,
    pub contact_id: Option<ID>,
    pub company_id: Option<ID>,
    pub deal_id: Option<ID>,
}

/// Only the fields given change; `null` clears an optional one.
#[derive(InputObject)]
pub struct UpdateTaskInput {
    pub title: Option<String>,
    pub notes: MaybeUndefined<String>,
    pub due_at: MaybeUndefined<DateTime<Utc>>,
    pub remind_at: MaybeUndefined<DateTime<Utc>>,
    pub assignee_id: MaybeUndefined<ID>,
    pub priority: Option<TaskPriority>,
    pub contact_id: MaybeUndefined<ID>,
    pub company_id: MaybeUndefined<ID>,
    pub deal_id: MaybeUndefined<ID>,
}

#[derive(InputObject, Default)]
pub struct TaskFilterInput {
    pub status: Option<TaskStatus>,
    pub assignee_id: Option<ID>,
    pub contact_id: Option<ID>,
    pub company_id: Option<ID>,
    pub deal_id: Option<ID>,
    pub due_before: Option<DateTime<Utc>>,
    pub overdue: Option<bool>,
}

fn title(value: &str) -> ApiResult<String> {
    text::required("title", value, 300)
}

fn notes(value: &str) -> ApiResult<Option<String>> {
    text::optional("notes", Some(value), 20_000)
}

impl CreateTaskInput {
    fn parse(self) -> ApiResult<TaskFields> {
        Ok(TaskFields {
            title: Some(title(&self.title)?),
            notes: Some(self.notes.as_deref().map(notes).transpose()?.flatten()),
            due_at: Some(self.due_at),
            remind_at: Some(self.remind_at),
            assignee: self
                .assignee_id
                .as_ref()
                .map(|id| UserId::parse(id, "assigneeId").map(Some))
                .transpose()?,
            priority: self.priority,
            contact: Some(self.contact_id.as_ref().map(|id| ContactId::parse(id, "contactId")).transpose()?),
            company: Some(self.company_id.as_ref().map(|id| CompanyId::parse(id, "companyId")).transpose()?),
            deal: Some(self.deal_id.as_ref().map(|id| DealId::parse(id, "dealId")).transpose()?),
        })
    }
}

impl UpdateTaskInput {
    fn parse(self) -> ApiResult<TaskFields> {
        Ok(TaskFields {
            title: self.title.as_deref().map(title).transpose()?,
            notes: change(self.notes, |n| notes(&n))?,
            due_at: change(self.due_at, |d| Ok(Some(d)))?,
            remind_at: change(self.remind_at, |d| Ok(Some(d)))?,
            assignee: change(self.assignee_id, |id| UserId::parse(&id, "assigneeId").map(Some))?,
            priority: self.priority,
            contact: change(self.contact_id, |id| ContactId::parse(&id, "contactId").map(Some))?,
            company: change(self.company_id, |id| CompanyId::parse(&id, "companyId").map(Some))?,
            deal: change(self.deal_id, |id| DealId::parse(&id, "dealId").map(Some))?,
        })
    }
}

impl TaskFilterInput {
    fn parse(self) -> ApiResult<TaskFilter> {
        Ok(TaskFilter {
            status: self.status,
            assignee: self.assignee_id.as_ref().map(|id| UserId::parse(id, "assigneeId")).transpose()?,
            contact: self.contact_id.as_ref().map(|id| ContactId::parse(id, "contactId")).transpose()?,
            company: self.company_id.as_ref().map(|id| CompanyId::parse(id, "companyId")).transpose()?,
            deal: self.deal_id.as_ref().map(|id| DealId::parse(id, "dealId")).transpose()?,
            due_before: self.due_before,
            overdue: self.overdue,
        })
    }
}

fn task_id(id: &ID) -> ApiResult<TaskId> {
    TaskId::parse(id, "id")
}

async fn page(
    ctx: &Context<'_>,
    filter: TaskFilter,
    first: Option<i32>,
    after: Option<ID>,
) -> async_graphql::Result<Vec<Task>> {
    let size = crm_platform::pagination::PageRequest::parse(first, None)?.size;
    let after = after.as_ref().map(|id| TaskId::parse(id, "after")).transpose()?.map(|id| id.0);
    let tx = Caller::of(ctx)?.tx().await?;
    let tasks = domain::list_tasks(&tx, filter, size, after).await?;
    tx.commit().await?;
    Ok(tasks.into_iter().map(Task).collect())
}

#[derive(Default)]
pub struct TaskQuery;

#[Object]
impl TaskQuery {
    /// The organization's tasks, soonest due first (undated last). Pass the last one's id as
    /// `after` for the next page.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn tasks(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<ID>,
        filter: Option<TaskFilterInput>,
    ) -> async_graphql::Result<Vec<Task>> {
        page(ctx, filter.unwrap_or_default().parse()?, first, after).await
    }

    /// The caller's own tasks.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn my_tasks(
        &self,
        ctx: &Context<'_>,
        status: Option<TaskStatus>,
        due_before: Option<DateTime<Utc>>,
        first: Option<i32>,
        after: Option<ID>,
    ) -> async_graphql::Result<Vec<Task>> {
        let me = Caller::of(ctx)?.user();
        let filter = TaskFilter { status, due_before, assignee: Some(me), ..TaskFilter::default() };
        page(ctx, filter, first, after).await
    }
}

#[derive(Default)]
pub struct TaskMutation;

#[Object]
impl TaskMutation {
    async fn create_task(&self, ctx: &Context<'_>, input: CreateTaskInput) -> async_graphql::Result<Task> {
        let caller = Caller::of(ctx)?;
        let fields = input.parse()?;
        let tx = caller.write_tx().await?;
        let task = domain::create_task(&tx, Some(caller.user()), fields).await?;
        tx.commit().await?;
        Ok(Task(task))
    }

    async fn update_task(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateTaskInput,
    ) -> async_graphql::Result<Task> {
        let caller = Caller::of(ctx)?;
        let fields = input.parse()?;
        let tx = caller.write_tx().await?;
        let task = domain::update_task(&tx, task_id(&id)?, fields).await?;
        tx.commit().await?;
        Ok(Task(task))
    }

    async fn complete_task(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Task> {
        let caller = Caller::of(ctx)?;
        let tx = caller.write_tx().await?;
        let task = domain::complete_task(&tx, caller.user(), task_id(&id)?).await?;
        tx.commit().await?;
        Ok(Task(task))
    }

    async fn reopen_task(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Task> {
        let caller = Caller::of(ctx)?;
        let tx = caller.write_tx().await?;
        let task = domain::reopen_task(&tx, task_id(&id)?).await?;
        tx.commit().await?;
        Ok(Task(task))
    }

    async fn delete_task(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Task> {
        let caller = Caller::of(ctx)?;
        let tx = caller.write_tx().await?;
        let task = domain::delete_task(&tx, task_id(&id)?).await?;
        tx.commit().await?;
        Ok(Task(task))
    }
}
