//! Activities and timelines. A timeline page for N deals (or contacts) is one statement: a
//! LATERAL join takes each parent's newest rows.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use chrono::{DateTime, Utc};
use crm_entities::events::communication::ActivityLogged;
use crm_entities::ids::{ActivityId, ContactId, DealId};
use crm_entities::tenant::activity::{self, ActivityType};
use crm_platform::error::{is_foreign_key_violation, violated_constraint};
use crm_platform::events::{self, Envelope};
use crm_platform::ids::UserId;
use crm_platform::{ApiError, ApiResult, Db, TenantId, TenantTx};
use sea_orm::{ActiveModelTrait, DbBackend, DbErr, EntityTrait, Set, Statement};
use uuid::Uuid;

pub struct NewActivity {
    /// `note`, `call`, `email` or `meeting`.
    pub kind: ActivityType,
    pub subject: String,
    pub body: Option<String>,
    pub deal: Option<DealId>,
    pub contact: Option<ContactId>,
    pub occurred_at: DateTime<Utc>,
}

#[tracing::instrument(skip_all, fields(tenant.id = %tx.tenant()))]
pub async fn log_activity(tx: &TenantTx, actor: UserId, new: NewActivity) -> ApiResult<activity::Model> {
    if new.deal.is_none() && new.contact.is_none() {
        return Err(ApiError::bad_input("dealId", "an activity needs a dealId or a contactId"));
    }
    let model = activity::ActiveModel {
        id: Set(ActivityId::new().0),
        kind: Set(new.kind),
        subject: Set(new.subject),
        body: Set(new.body),
        deal_id: Set(new.deal.map(|d| d.0)),
        contact_id: Set(new.contact.map(|c| c.0)),
        occurred_at: Set(new.occurred_at),
        created_at: Set(Utc::now()),
    }
    .insert(&**tx)
    .await
    .map_err(reference_error)?;
    let logged = ActivityLogged {
        activity_id: ActivityId(model.id),
        deal_id: model.deal_id.map(DealId),
        contact_id: model.contact_id.map(ContactId),
        activity_type: model.kind,
    };
    let event = Envelope::new(tx.tenant(), Some(actor), &logged)?;
    events::enqueue(&**tx, &event).await?;
    Ok(model)
}

fn reference_error(err: DbErr) -> ApiError {
    if is_foreign_key_violation(&err, "activities_deal_id_fkey") {
        ApiError::bad_input("dealId", "deal not found")
    } else if is_foreign_key_violation(&err, "activities_contact_id_fkey") {
        ApiError::bad_input("contactId", "contact not found")
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

/// Which foreign key a timeline follows. The column name comes from here, never from input.
#[derive(Clone, Copy)]
enum Parent {
    Deal,
    Contact,
}

impl Parent {
    fn column(self) -> &'static str {
        match self {
            Self::Deal => "deal_id",
            Self::Contact => "contact_id",
        }
    }
}

async fn timelines(
    db: &Db,
    tenant: TenantId,
    parent: Parent,
    keys: &[(Uuid, TimelinePage)],
) -> ApiResult<HashMap<(Uuid, TimelinePage), Vec<activity::Model>>> {
    let mut pages: HashMap<TimelinePage, Vec<Uuid>> = HashMap::new();
    for (id, page) in keys {
        pages.entry(*page).or_default().push(*id);
    }
    let column = parent.column();
    let sql = format!(
        "SELECT a.* FROM unnest($1::uuid[]) AS parent(id)
         CROSS JOIN LATERAL (
             SELECT * FROM activities
             WHERE {column} = parent.id
               AND ($2::uuid IS NULL
                    OR (occurred_at, id) < (SELECT occurred_at, id FROM activities WHERE id = $2))
             ORDER BY occurred_at DESC, id DESC
             LIMIT $3
         ) a"
    );
    let tx = TenantTx::begin(db, tenant).await?;
    let mut found: HashMap<(Uuid, TimelinePage), Vec<activity::Model>> =
        keys.iter().map(|key| (*key, Vec::new())).collect();
    // Pages with the same arguments share one statement; a request normally has one.
    for (page, parents) in pages {
        let rows = activity::Entity::find()
            .from_raw_sql(Statement::from_sql_and_values(
                DbBackend::Postgres,
                &sql,
                [parents.into(), page.after.into(), (page.size as i64).into()],
            ))
            .all(&*tx)
            .await?;
        for row in rows {
            let parent_id = match parent {
                Parent::Deal => row.deal_id,
                Parent::Contact => row.contact_id,
            };
            if let Some(list) = parent_id.and_then(|id| found.get_mut(&(id, page))) {
                list.push(row);
            }
        }
    }
    tx.commit().await?;
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
        let found = timelines(&self.db, self.tenant, Parent::Deal, &raw).await?;
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
        let found = timelines(&self.db, self.tenant, Parent::Contact, &raw).await?;
        Ok(found.into_iter().map(|((id, page), rows)| ((ContactId(id), page), rows)).collect())
    }
}

crm_platform::id_loader!(
    /// Activities by id.
    ActivityLoader,
    ActivityId,
    activity
);
