//! One merged feed for a contact, company or deal: activities, emails (sent, failed, opened,
//! clicked), tasks (created, reminded, completed) and the stage changes of its deals, newest
//! first, paged by an opaque cursor over (time, kind, id).
//!
//! Stage changes are read from the deal history in the same tenant schema (not copied from
//! `deal.stage_changed` events), so the feed is never behind the board.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeZone, Utc};
use crm_entities::ids::{CompanyId, ContactId, DealId};
use crm_entities::tenant::{activity, email, task};
use crm_platform::sql::Sql;
use crm_platform::{ApiError, ApiResult, TenantTx};
use sea_orm::{ColumnTrait, EntityTrait, FromQueryResult, QueryFilter};
use uuid::Uuid;

/// Whose feed.
#[derive(Clone, Copy, Debug)]
pub enum Subject {
    Contact(ContactId),
    Company(CompanyId),
    Deal(DealId),
}

impl Subject {
    fn column(self) -> &'static str {
        match self {
            Self::Contact(_) => "contact_id",
            Self::Company(_) => "company_id",
            Self::Deal(_) => "deal_id",
        }
    }

    fn id(self) -> Uuid {
        match self {
            Self::Contact(ContactId(id)) | Self::Company(CompanyId(id)) | Self::Deal(DealId(id)) => id,
        }
    }

    /// The deals whose stage changes belong in this feed, as SQL over the `subject` CTE.
    fn deals(self) -> &'static str {
        match self {
            Self::Contact(_) => {
                "SELECT deal_id FROM deal_contacts WHERE contact_id = (SELECT id FROM subject)"
            }
            Self::Company(_) => "SELECT id FROM deals WHERE company_id = (SELECT id FROM subject)",
            Self::Deal(_) => "SELECT id FROM subject",
        }
    }
}

/// Where a page starts: after the entry at `at` of `kind` and `id`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    at: DateTime<Utc>,
    kind: String,
    id: Uuid,
}

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}|{}|{}", self.at.timestamp_micros(), self.kind, self.id))
    }

    pub fn decode(raw: &str) -> ApiResult<Self> {
        let bad = || ApiError::bad_input("after", "after is not a timeline cursor");
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad())?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let mut parts = text.splitn(3, '|');
        let micros: i64 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let kind = parts.next().filter(|k| KINDS.contains(k)).ok_or_else(bad)?.to_owned();
        let id = parts.next().and_then(|p| Uuid::try_parse(p).ok()).ok_or_else(bad)?;
        let at = Utc.timestamp_micros(micros).single().ok_or_else(bad)?;
        Ok(Self { at, kind, id })
    }
}

const KINDS: [&str; 9] = [
    "activity",
    "email_sent",
    "email_failed",
    "email_opened",
    "email_clicked",
    "task_created",
    "task_reminded",
    "task_completed",
    "stage_changed",
];

/// One entry as read: what happened, when, and the record it is about.
#[derive(Clone, Debug, FromQueryResult)]
pub struct Row {
    pub kind: String,
    /// Unique within its kind (the tracking row for opens and clicks, else the record).
    pub entry_id: Uuid,
    /// The activity, email, task or deal.
    pub ref_id: Uuid,
    pub at: DateTime<Utc>,
    pub url: Option<String>,
    pub from_stage: Option<String>,
    pub to_stage: Option<String>,
    pub actor_id: Option<Uuid>,
}

impl Row {
    pub fn cursor(&self) -> Cursor {
        Cursor { at: self.at, kind: self.kind.clone(), id: self.entry_id }
    }
}

/// A page of the feed with the records its entries point at.
pub struct Page {
    pub rows: Vec<Row>,
    pub has_more: bool,
    pub activities: HashMap<Uuid, activity::Model>,
    pub emails: HashMap<Uuid, email::Model>,
    pub tasks: HashMap<Uuid, task::Model>,
}

pub async fn page(tx: &TenantTx, subject: Subject, size: u64, after: Option<Cursor>) -> ApiResult<Page> {
    let column = subject.column();
    let deals = subject.deals();
    let text = format!(
        ") SELECT * FROM (
            SELECT 'activity' AS kind, id AS entry_id, id AS ref_id, occurred_at AS at, NULL::text AS url,
                   NULL::text AS from_stage, NULL::text AS to_stage, author_id AS actor_id
              FROM activities WHERE {column} = (SELECT id FROM subject)
            UNION ALL
            SELECT 'email_sent', id, id, sent_at, NULL, NULL, NULL, sender_id
              FROM emails WHERE {column} = (SELECT id FROM subject) AND purpose IN ('crm', 'followup') AND sent_at IS NOT NULL
            UNION ALL
            SELECT 'email_failed', id, id, failed_at, NULL, NULL, NULL, sender_id
              FROM emails WHERE {column} = (SELECT id FROM subject) AND purpose IN ('crm', 'followup') AND failed_at IS NOT NULL
            UNION ALL
            SELECT CASE t.kind WHEN 'open' THEN 'email_opened' ELSE 'email_clicked' END, t.id, e.id, t.at,
                   t.url, NULL, NULL, NULL
              FROM email_tracking t JOIN emails e ON e.id = t.email_id WHERE e.{column} = (SELECT id FROM subject)
            UNION ALL
            SELECT 'task_created', id, id, created_at, NULL, NULL, NULL, created_by FROM tasks WHERE {column} = (SELECT id FROM subject)
            UNION ALL
            SELECT 'task_reminded', id, id, reminded_at, NULL, NULL, NULL, NULL
              FROM tasks WHERE {column} = (SELECT id FROM subject) AND reminded_at IS NOT NULL
            UNION ALL
            SELECT 'task_completed', id, id, completed_at, NULL, NULL, NULL, completed_by
              FROM tasks WHERE {column} = (SELECT id FROM subject) AND completed_at IS NOT NULL
            UNION ALL
            SELECT 'stage_changed', c.id, c.deal_id, c.changed_at, NULL, c.from_stage_name, c.to_stage_name,
                   c.changed_by
              FROM deal_stage_changes c JOIN deals d ON d.id = c.deal_id AND d.deleted_at IS NULL
             WHERE c.from_stage_id IS NOT NULL AND c.deal_id IN ({deals})
         ) entries"
    );
    let mut sql = Sql::new("WITH subject (id) AS (SELECT ");
    sql.bind_as(subject.id(), "uuid").push(&text);
    if let Some(after) = after {
        sql.push(" WHERE (at, kind, entry_id) < (").bind(after.at).push(", ").bind(after.kind);
        sql.push(", ").bind(after.id).push(")");
    }
    sql.push(" ORDER BY at DESC, kind DESC, entry_id DESC LIMIT ").bind(size as i64 + 1);
    let mut rows = Row::find_by_statement(sql.statement()).all(&**tx).await?;
    let has_more = rows.len() as u64 > size;
    rows.truncate(size as usize);

    let ids = |prefix: &str| -> Vec<Uuid> {
        rows.iter().filter(|r| r.kind.starts_with(prefix)).map(|r| r.ref_id).collect()
    };
    let (activity_ids, email_ids, task_ids) = (ids("activity"), ids("email_"), ids("task_"));
    let activities =
        activity::Entity::find().filter(activity::Column::Id.is_in(activity_ids)).all(&**tx).await?;
    let emails = email::Entity::find().filter(email::Column::Id.is_in(email_ids)).all(&**tx).await?;
    let tasks = task::Entity::find().filter(task::Column::Id.is_in(task_ids)).all(&**tx).await?;
    Ok(Page {
        rows,
        has_more,
        activities: activities.into_iter().map(|a| (a.id, a)).collect(),
        emails: emails.into_iter().map(|e| (e.id, e)).collect(),
        tasks: tasks.into_iter().map(|t| (t.id, t)).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_foreign_ones_are_refused() {
        let cursor = Cursor { at: Utc::now(), kind: "email_opened".to_owned(), id: Uuid::now_v7() };
        let decoded = Cursor::decode(&cursor.encode()).expect("round trip");
        assert_eq!(decoded.at.timestamp_micros(), cursor.at.timestamp_micros());
        assert_eq!((decoded.kind, decoded.id), (cursor.kind, cursor.id));
        let forged = URL_SAFE_NO_PAD.encode(format!("1|drop table|{}", Uuid::nil()));
        assert!(Cursor::decode(&forged).is_err());
        assert!(Cursor::decode("%%%").is_err());
    }
}
