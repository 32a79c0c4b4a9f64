//! `timeline(contactId | companyId | dealId)`: everything that happened with a record, merged.

use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use crm_entities::ids::{CompanyId, ContactId, DealId};
use crm_platform::pagination::PageRequest;
use crm_platform::user_ref::UserRef;
use crm_platform::{ApiError, Caller};

use super::emails::Email;
use super::tasks::Task;
use super::types::{Activity, DealRef};
use crate::timeline::{self, Cursor, Subject};

/// What a timeline entry records.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum TimelineKind {
    Activity,
    EmailSent,
    EmailFailed,
    EmailOpened,
    EmailClicked,
    TaskCreated,
    TaskReminded,
    TaskCompleted,
    StageChanged,
}

impl TimelineKind {
    fn of(stored: &str) -> Option<Self> {
        Some(match stored {
            "activity" => Self::Activity,
            "email_sent" => Self::EmailSent,
            "email_failed" => Self::EmailFailed,
            "email_opened" => Self::EmailOpened,
            "email_clicked" => Self::EmailClicked,
            "task_created" => Self::TaskCreated,
            "task_reminded" => Self::TaskReminded,
            "task_completed" => Self::TaskCompleted,
            "stage_changed" => Self::StageChanged,
            _ => return None,
        })
    }
}

/// One thing that happened; the field for its kind is set (`activity`, `email`, `task`, or
/// `deal` with the stage names).
#[derive(SimpleObject)]
pub struct TimelineEntry {
    pub kind: TimelineKind,
    pub at: DateTime<Utc>,
    /// Who did it, when a member did.
    pub actor: Option<UserRef>,
    pub activity: Option<Activity>,
    pub email: Option<Email>,
    pub task: Option<Task>,
    pub deal: Option<DealRef>,
    /// The link followed (EMAIL_CLICKED).
    pub url: Option<String>,
    pub from_stage: Option<String>,
    pub to_stage: Option<String>,
    /// Pass as `after` to read on from this entry.
    pub cursor: String,
}

#[derive(SimpleObject)]
pub struct Timeline {
    /// Newest first.
    pub entries: Vec<TimelineEntry>,
    pub has_more: bool,
    pub end_cursor: Option<String>,
}

#[derive(Default)]
pub struct TimelineQuery;

#[Object]
impl TimelineQuery {
    /// Everything that happened with one contact, company or deal (name exactly one): its
    /// activities, emails sent, failed, opened and clicked, tasks created, reminded and done,
    /// and its deals' stage changes, newest first.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn timeline(
        &self,
        ctx: &Context<'_>,
        contact_id: Option<ID>,
        company_id: Option<ID>,
        deal_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Timeline> {
        let subject = match (contact_id, company_id, deal_id) {
            (Some(id), None, None) => Subject::Contact(ContactId::parse(&id, "contactId")?),
            (None, Some(id), None) => Subject::Company(CompanyId::parse(&id, "companyId")?),
            (None, None, Some(id)) => Subject::Deal(DealId::parse(&id, "dealId")?),
            _ => {
                return Err(ApiError::bad_input(
                    "contactId",
                    "name exactly one of contactId, companyId, dealId",
                )
                .into());
            }
        };
        let size = PageRequest::parse(first, None)?.size;
        let after = after.as_deref().map(Cursor::decode).transpose()?;
        let tx = Caller::of(ctx)?.tx().await?;
        let mut page = timeline::page(&tx, subject, size, after).await?;
        tx.commit().await?;
        let end_cursor = page.rows.last().map(|row| row.cursor().encode());
        let mut entries = Vec::with_capacity(page.rows.len());
        for row in page.rows {
            let Some(kind) = TimelineKind::of(&row.kind) else { continue };
            let cursor = row.cursor().encode();
            let mut entry = TimelineEntry {
                kind,
                at: row.at,
                actor: UserRef::of(row.actor_id),
                activity: None,
                email: None,
                task: None,
                deal: None,
                url: row.url,
                from_stage: row.from_stage,
                to_stage: row.to_stage,
                cursor,
            };
            match kind {
                TimelineKind::Activity => entry.activity = page.activities.remove(&row.ref_id).map(Activity),
                TimelineKind::StageChanged => entry.deal = Some(DealRef(DealId(row.ref_id))),
                TimelineKind::EmailSent
                | TimelineKind::EmailFailed
                | TimelineKind::EmailOpened
                | TimelineKind::EmailClicked => {
                    entry.email = page.emails.get(&row.ref_id).cloned().map(Email)
                }
                TimelineKind::TaskCreated | TimelineKind::TaskReminded | TimelineKind::TaskCompleted => {
                    entry.task = page.tasks.get(&row.ref_id).cloned().map(Task)
                }
            }
            entries.push(entry);
        }
        Ok(Timeline { entries, has_more: page.has_more, end_cursor })
    }
}
