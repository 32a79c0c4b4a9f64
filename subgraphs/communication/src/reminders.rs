//! Task reminders: every replica looks for due reminders in `crm.task_reminders` once a second;
//! each is fired in its tenant's transaction, guarded by the task's `reminded_at`, so it is
//! emitted (`task.reminder_due`) exactly once however many replicas race for it and whatever
//! restarts in between.

use std::time::Duration;

use chrono::{DateTime, Utc};
use crm_entities::events::communication::TaskReminderDue;
use crm_entities::ids::TaskId;
use crm_platform::events::{self, Envelope};
use crm_platform::ids::UserId;
use crm_platform::sql::Sql;
use crm_platform::{ApiResult, Db, TenantId, TenantTx};
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Statement};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

const POLL: Duration = Duration::from_secs(1);
/// Reminders fired per look.
const BATCH: i64 = 100;

/// Fires due reminders until `shutdown`.
pub async fn run(db: Db, shutdown: CancellationToken) {
    loop {
        match fire_due(&db).await {
            Ok(fired) if fired as i64 == BATCH => continue,
            Ok(_) => {}
            Err(err) => tracing::warn!(error = ?err, "could not fire task reminders"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(POLL) => {}
        }
    }
}

#[derive(FromQueryResult)]
struct Due {
    task_id: Uuid,
    tenant_id: Uuid,
}

#[derive(FromQueryResult)]
struct Fired {
    assignee_id: Option<Uuid>,
    title: String,
    remind_at: DateTime<Utc>,
    due_at: Option<DateTime<Utc>>,
}

/// Fires the reminders due now; returns how many were looked at.
pub async fn fire_due(db: &Db) -> ApiResult<usize> {
    let due = Due::find_by_statement(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT task_id, tenant_id FROM crm.task_reminders WHERE remind_at <= now() ORDER BY remind_at LIMIT $1",
        [BATCH.into()],
    ))
    .all(db.conn())
    .await?;
    for reminder in &due {
        fire(db, TenantId(reminder.tenant_id), TaskId(reminder.task_id)).await?;
    }
    Ok(due.len())
}

async fn fire(db: &Db, tenant: TenantId, task: TaskId) -> ApiResult<()> {
    let tx = TenantTx::begin(db, tenant).await?;
    // The guard: of all who try, one finds `reminded_at` still empty.
    let mut sql = Sql::new(
        "UPDATE tasks SET reminded_at = now() WHERE reminded_at IS NULL AND status = 'open'
         AND remind_at <= now() AND id = ",
    );
    sql.bind(task.0).push(" RETURNING assignee_id, title, remind_at, due_at");
    if let Some(fired) = Fired::find_by_statement(sql.statement()).one(&*tx).await? {
        let due = TaskReminderDue {
            task_id: task,
            assignee_id: fired.assignee_id.map(UserId),
            title: fired.title,
            remind_at: fired.remind_at,
            due_at: fired.due_at,
        };
        events::enqueue(&*tx, &Envelope::new(tenant, None, &due)?).await?;
    }
    // A reminder moved later in the meantime stays.
    let mut done = Sql::new("DELETE FROM crm.task_reminders WHERE remind_at <= now() AND task_id = ");
    done.bind(task.0);
    tx.execute(done.statement()).await?;
    tx.commit().await?;
    Ok(())
}

/// Keeps `crm.task_reminders` in step with a task just written (in the same transaction): a
/// reminder is pending while the task is open, has a `remindAt` and has not been reminded.
pub async fn sync(tx: &TenantTx, task: &crm_entities::tenant::task::Model) -> ApiResult<()> {
    use crm_entities::tenant::task::TaskStatus;
    let pending = task.status == TaskStatus::Open && task.reminded_at.is_none();
    let Some(at) = task.remind_at.filter(|_| pending) else {
        return forget(tx, TaskId(task.id)).await;
    };
    let mut sql = Sql::new("INSERT INTO crm.task_reminders (task_id, tenant_id, remind_at) VALUES (");
    sql.bind(task.id).push(", ").bind(tx.tenant().0).push(", ").bind(at);
    sql.push(") ON CONFLICT (task_id) DO UPDATE SET remind_at = excluded.remind_at");
    tx.execute(sql.statement()).await?;
    Ok(())
}

/// No reminder is pending for `task` (done, deleted, or no `remindAt`).
pub async fn forget(tx: &TenantTx, task: TaskId) -> ApiResult<()> {
    let mut sql = Sql::new("DELETE FROM crm.task_reminders WHERE task_id = ");
    sql.bind(task.0);
    tx.execute(sql.statement()).await?;
    Ok(())
}
