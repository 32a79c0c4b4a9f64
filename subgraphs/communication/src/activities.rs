//! Activities and timelines. A timeline page for N deals (contacts, companies) is one statement: a
//! LATERAL join takes each parent's newest rows.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use chrono::{DateTime, Utc};
use crm_entities::events::communication::{ActivityDeleted, ActivityLogged, ActivityUpdated};
use crm_entities::events::contact::{Changes, FieldChange};
use crm_entities::ids::{ActivityId, CompanyId, ContactId, DealId};
use crm_entities::tenant::activity::{self, ActivityType};
use crm_platform::error::{is_foreign_key_violation, violated_constraint};
use crm_platform::events::{self, Envelope};
use crm_platform::ids::UserId;
use crm_platform::sql::{Sql, columns};
use crm_platform::tenancy::RequestReads;
use crm_platform::{ApiError, ApiResult, TenantTx};
use sea_orm::{ActiveModelTrait, DbBackend, DbErr, EntityTrait, Set, Statement};
use serde_json::Value;
use uuid::Uuid;

pub struct NewActivity {
    pub kind: ActivityType,
    pub subject: String,
    pub body: Option<String>,
    pub deal: Option<DealId>,
    pub contact: Option<ContactId>,
    pub company: Option<CompanyId>,
    pub occurred_at: DateTime<Utc>,
    pub duration_minutes: Option<i32>,
    pub outcome: Option<String>,
    pub participants: Vec<String>,
}

#[tracing::instrument(skip_all, fields(tenant.id = %tx.tenant()))]
/// Logs `new`, by `actor` (`None`: recorded by the system, such as a deal won).
pub async fn log_activity(
    tx: &TenantTx,
    actor: Option<UserId>,
    new: NewActivity,
) -> ApiResult<activity::Model> {
    if new.deal.is_none() && new.contact.is_none() && new.company.is_none() {
        return Err(ApiError::bad_input("dealId", "an activity needs a dealId, contactId or companyId"));
    }
    let now = Utc::now();
    let model = activity::ActiveModel {
        id: Set(ActivityId::new().0),
        kind: Set(new.kind),
        subject: Set(new.subject),
        body: Set(new.body),
        deal_id: Set(new.deal.map(|d| d.0)),
        contact_id: Set(new.contact.map(|c| c.0)),
        company_id: Set(new.company.map(|c| c.0)),
        author_id: Set(actor.map(|a| a.0)),
        duration_minutes: Set(new.duration_minutes),
        outcome: Set(new.outcome),
        participants: Set(new.participants),
        occurred_at: Set(new.occurred_at),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&**tx)
    .await
    .map_err(reference_error)?;
    let logged = ActivityLogged {
        activity_id: ActivityId(model.id),
        deal_id: model.deal_id.map(DealId),
        contact_id: model.contact_id.map(ContactId),
        company_id: model.company_id.map(CompanyId),
        activity_type: model.kind,
    };
    let event = Envelope::new(tx.tenant(), actor, &logged)?;
    events::enqueue(&**tx, &event).await?;
    Ok(model)
}

/// Changes to an activity; `None` keeps a field, `Some(None)` clears it.
#[derive(Default)]
pub struct ActivityPatch {
    pub kind: Option<ActivityType>,
    pub subject: Option<String>,
    pub body: Option<Option<String>>,
    pub occurred_at: Option<DateTime<Utc>>,
    pub duration_minutes: Option<Option<i32>>,
    pub outcome: Option<Option<String>>,
    pub participants: Option<Vec<String>>,
    pub deal: Option<Option<DealId>>,
    pub contact: Option<Option<ContactId>>,
    pub company: Option<Option<CompanyId>>,
}

/// Who may change an activity: its author, or an admin (`others`).
#[derive(Clone, Copy)]
pub struct Editor {
    pub user: UserId,
    pub others: bool,
}

/// The activity, locked, if `editor` may change it.
async fn editable(tx: &TenantTx, editor: Editor, id: ActivityId) -> ApiResult<activity::Model> {
    use sea_orm::QuerySelect;
    let activity = activity::Entity::find_by_id(id.0)
        .lock(sea_orm::sea_query::LockType::Update)
        .one(&**tx)
        .await?
        .ok_or(ApiError::NotFound("activity"))?;
    if !editor.others && activity.author_id != Some(editor.user.0) {
        return Err(ApiError::Forbidden("only its author or an admin may change an activity".to_owned()));
    }
    Ok(activity)
}

pub async fn update_activity(
    tx: &TenantTx,
    editor: Editor,
    id: ActivityId,
    patch: ActivityPatch,
) -> ApiResult<activity::Model> {
    let before = editable(tx, editor, id).await?;
    let mut active: activity::ActiveModel = before.clone().into();
    if let Some(kind) = patch.kind {
        active.kind = Set(kind);
    }
    if let Some(subject) = patch.subject {
        active.subject = Set(subject);
    }
    if let Some(body) = patch.body {
        active.body = Set(body);
    }
    if let Some(at) = patch.occurred_at {
        active.occurred_at = Set(at);
    }
    if let Some(minutes) = patch.duration_minutes {
        active.duration_minutes = Set(minutes);
    }
    if let Some(outcome) = patch.outcome {
        active.outcome = Set(outcome);
    }
    if let Some(participants) = patch.participants {
        active.participants = Set(participants);
    }
    if let Some(deal) = patch.deal {
        active.deal_id = Set(deal.map(|d| d.0));
    }
    if let Some(contact) = patch.contact {
        active.contact_id = Set(contact.map(|c| c.0));
    }
    if let Some(company) = patch.company {
        active.company_id = Set(company.map(|c| c.0));
    }
    active.updated_at = Set(Utc::now());
    let after = active.update(&**tx).await.map_err(reference_error)?;
    let changes = changes(&before, &after)?;
    if !changes.is_empty() {
        let updated = ActivityUpdated { activity_id: id, changes };
        events::enqueue(&**tx, &Envelope::new(tx.tenant(), Some(editor.user), &updated)?).await?;
    }
    Ok(after)
}

pub async fn delete_activity(tx: &TenantTx, editor: Editor, id: ActivityId) -> ApiResult<activity::Model> {
    let activity = editable(tx, editor, id).await?;
    activity::Entity::delete_by_id(activity.id).exec(&**tx).await?;
    let deleted = ActivityDeleted {
        activity_id: id,
        deal_id: activity.deal_id.map(DealId),
        contact_id: activity.contact_id.map(ContactId),
        company_id: activity.company_id.map(CompanyId),
    };
    events::enqueue(&**tx, &Envelope::new(tx.tenant(), Some(editor.user), &deleted)?).await?;
    Ok(activity)
}

/// The fields that differ, by column name, with their previous and new values.
fn changes(before: &activity::Model, after: &activity::Model) -> ApiResult<Changes> {
    let (before, after) = (serde_json::to_value(before), serde_json::to_value(after));
    let (Ok(Value::Object(before)), Ok(Value::Object(after))) = (before, after) else {
        return Err(ApiError::internal(std::io::Error::other("an activity did not serialize")));
    };
    Ok(after
        .into_iter()
        .filter(|(field, new)| field != "updated_at" && before.get(field) != Some(new))
        .map(|(field, new)| {
            let previous = before.get(&field).cloned().unwrap_or(Value::Null);
            (field, FieldChange { previous, new })
        })
        .collect())
}

fn reference_error(err: DbErr) -> ApiError {
    if is_foreign_key_violation(&err, "activities_deal_id_fkey") {
        ApiError::bad_input("dealId", "deal not found")
    } else if is_foreign_key_violation(&err, "activities_contact_id_fkey") {
        ApiError::bad_input("contactId", "contact not found")
    } else if is_foreign_key_violation(&err, "activities_company_id_fkey") {
        ApiError::bad_input("companyId", "company not found")
    } else if violated_constraint(&err)
        .is_some_and(|(_, c)| c.as_deref() == Some("activities_has_subject_record"))
    {
        ApiError::bad_input("dealId", "an activity needs a dealId, contactId or companyId")
    } else if violated_constraint(&err).is_some_and(|(code, _)| code == "23503") {
        ApiError::bad_input("dealId", "referenced record not found")
    } else {
        err.into()
    }
}

/// One page of a timeline: the newest `size` activities, after the activity `after` if given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TimelinePage {
    pub size: u64,
    pub after: Option<Uuid>,
}

/// What `activities(filter:)` selects; every part given must hold.
#[derive(Default)]
pub struct ActivityFilter {
    pub kind: Option<ActivityType>,
    pub deal: Option<DealId>,
    pub contact: Option<ContactId>,
    pub company: Option<CompanyId>,
    pub author: Option<UserId>,
    /// Occurred at or after.
    pub from: Option<DateTime<Utc>>,
    /// Occurred before.
    pub to: Option<DateTime<Utc>>,
}

/// The organization's activities matching `filter`, newest first, one page.
pub async fn list_activities(
    tx: &TenantTx,
    filter: ActivityFilter,
    page: TimelinePage,
) -> ApiResult<Vec<activity::Model>> {
    use sea_orm::ActiveEnum;
    let mut sql = Sql::new(&format!("SELECT {} FROM activities WHERE TRUE", columns::<activity::Entity>("")));
    if let Some(kind) = filter.kind {
        sql.push(" AND kind = ").bind(kind.to_value());
    }
    for (column, id) in [
        ("deal_id", filter.deal.map(|d| d.0)),
        ("contact_id", filter.contact.map(|c| c.0)),
        ("company_id", filter.company.map(|c| c.0)),
        ("author_id", filter.author.map(|a| a.0)),
    ] {
        if let Some(id) = id {
            sql.push(&format!(" AND {column} = ")).bind(id);
        }
    }
    if let Some(from) = filter.from {
        sql.push(" AND occurred_at >= ").bind(from);
    }
    if let Some(to) = filter.to {
        sql.push(" AND occurred_at < ").bind(to);
    }
    if let Some(after) = page.after {
        sql.push(" AND (occurred_at, id) < (SELECT occurred_at, id FROM activities WHERE id = ")
            .bind(after)
            .push(")");
    }
    sql.push(" ORDER BY occurred_at DESC, id DESC LIMIT ").bind(page.size as i64);
    Ok(activity::Entity::find().from_raw_sql(sql.statement()).all(&**tx).await?)
}

/// Which foreign key a timeline follows. The column name comes from here, never from input.
#[derive(Clone, Copy)]
enum Parent {
    Deal,
    Contact,
    Company,
}

impl Parent {
    fn column(self) -> &'static str {
        match self {
            Self::Deal => "deal_id",
            Self::Contact => "contact_id",
            Self::Company => "company_id",
        }
    }
}

async fn timelines(
    reads: &RequestReads,
    parent: Parent,
    keys: &[(Uuid, TimelinePage)],
) -> ApiResult<HashMap<(Uuid, TimelinePage), Vec<activity::Model>>> {
    let mut pages: HashMap<TimelinePage, Vec<Uuid>> = HashMap::new();
    for (id, page) in keys {
        pages.entry(*page).or_default().push(*id);
    }
    let column = parent.column();
    let sql = format!(
        "SELECT {} FROM unnest($1::uuid[]) AS parent(id)
         CROSS JOIN LATERAL (
             SELECT {} FROM activities
             WHERE {column} = parent.id
               AND ($2::uuid IS NULL
                    OR (occurred_at, id) < (SELECT occurred_at, id FROM activities WHERE id = $2))
             ORDER BY occurred_at DESC, id DESC
             LIMIT $3
         ) a",
        columns::<activity::Entity>("a"),
        columns::<activity::Entity>("")
    );
    let mut found: HashMap<(Uuid, TimelinePage), Vec<activity::Model>> =
        keys.iter().map(|key| (*key, Vec::new())).collect();
    // Pages with the same arguments share one statement; a request normally has one.
    for (page, parents) in pages {
        let statement = Statement::from_sql_and_values(
            DbBackend::Postgres,
            &sql,
            [parents.into(), page.after.into(), (page.size as i64).into()],
        );
        let rows =
            reads.read(async |tx| activity::Entity::find().from_raw_sql(statement).all(tx).await).await?;
        for row in rows {
            let parent_id = match parent {
                Parent::Deal => row.deal_id,
                Parent::Contact => row.contact_id,
                Parent::Company => row.company_id,
            };
            if let Some(list) = parent_id.and_then(|id| found.get_mut(&(id, page))) {
                list.push(row);
            }
        }
    }
    Ok(found)
}

crm_platform::tenant_loader!(
    /// Timelines of deals.
    DealTimelineLoader
);

impl Loader<(DealId, TimelinePage)> for DealTimelineLoader {
    type Value = Vec<activity::Model>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[(DealId, TimelinePage)],
    ) -> Result<HashMap<(DealId, TimelinePage), Self::Value>, Self::Error> {
        let raw: Vec<_> = keys.iter().map(|(id, page)| (id.0, *page)).collect();
        let found = timelines(&self.reads, Parent::Deal, &raw).await?;
        Ok(found.into_iter().map(|((id, page), rows)| ((DealId(id), page), rows)).collect())
    }
}

crm_platform::tenant_loader!(
    /// Timelines of contacts.
    ContactTimelineLoader
);

impl Loader<(ContactId, TimelinePage)> for ContactTimelineLoader {
    type Value = Vec<activity::Model>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[(ContactId, TimelinePage)],
    ) -> Result<HashMap<(ContactId, TimelinePage), Self::Value>, Self::Error> {
        let raw: Vec<_> = keys.iter().map(|(id, page)| (id.0, *page)).collect();
        let found = timelines(&self.reads, Parent::Contact, &raw).await?;
        Ok(found.into_iter().map(|((id, page), rows)| ((ContactId(id), page), rows)).collect())
    }
}

crm_platform::tenant_loader!(
    /// Timelines of companies.
    CompanyTimelineLoader
);

impl Loader<(CompanyId, TimelinePage)> for CompanyTimelineLoader {
    type Value = Vec<activity::Model>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[(CompanyId, TimelinePage)],
    ) -> Result<HashMap<(CompanyId, TimelinePage), Self::Value>, Self::Error> {
        let raw: Vec<_> = keys.iter().map(|(id, page)| (id.0, *page)).collect();
        let found = timelines(&self.reads, Parent::Company, &raw).await?;
        Ok(found.into_iter().map(|((id, page), rows)| ((CompanyId(id), page), rows)).collect())
    }
}

crm_platform::id_loader!(
    /// Activities by id.
    ActivityLoader,
    ActivityId,
    activity
);
