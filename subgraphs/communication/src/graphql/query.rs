use async_graphql::{Context, ID, InputObject, MergedObject, Object};
use chrono::{DateTime, Utc};
use crm_entities::ids::{ActivityId, CompanyId, ContactId, DealId};
use crm_entities::tenant::activity::ActivityType;
use crm_platform::Caller;
use crm_platform::ids::UserId;
use crm_platform::{ApiError, ApiResult};

use super::analytics::AnalyticsQuery;
use super::emails::EmailQuery;
use super::tasks::TaskQuery;
use super::templates::TemplateQuery;
use super::timeline::TimelineQuery;
use super::types::{Activity, CompanyRef, ContactRef, DealRef, timeline_page};
use super::webhooks::WebhookQuery;
use crate::activities::{ActivityFilter, ActivityLoader, list_activities};

#[derive(Default)]
pub struct EntityQuery;

/// Entities, timelines, tasks and email templates, one `Query` type.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    EntityQuery,
    TaskQuery,
    TemplateQuery,
    EmailQuery,
    TimelineQuery,
    AnalyticsQuery,
    WebhookQuery,
);

/// Selects activities; every part given must hold.
#[derive(InputObject, Default)]
pub struct ActivityFilterInput {
    #[graphql(name = "type")]
    pub kind: Option<ActivityType>,
    pub deal_id: Option<ID>,
    pub contact_id: Option<ID>,
    pub company_id: Option<ID>,
    pub author_id: Option<ID>,
    /// Occurred at or after.
    pub from: Option<DateTime<Utc>>,
    /// Occurred before.
    pub to: Option<DateTime<Utc>>,
}

impl ActivityFilterInput {
    fn parse(self) -> ApiResult<ActivityFilter> {
        if let (Some(from), Some(to)) = (self.from, self.to)
            && to < from
        {
            return Err(ApiError::bad_input("to", "to is before from"));
        }
        Ok(ActivityFilter {
            kind: self.kind,
            deal: self.deal_id.as_ref().map(|id| DealId::parse(id, "dealId")).transpose()?,
            contact: self.contact_id.as_ref().map(|id| ContactId::parse(id, "contactId")).transpose()?,
            company: self.company_id.as_ref().map(|id| CompanyId::parse(id, "companyId")).transpose()?,
            author: self.author_id.as_ref().map(|id| UserId::parse(id, "authorId")).transpose()?,
            from: self.from,
            to: self.to,
        })
    }
}

#[Object]
impl EntityQuery {
    /// The organization's activities, newest first. Pass the last one's id as `after` for the
    /// next page.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn activities(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<ID>,
        filter: Option<ActivityFilterInput>,
    ) -> async_graphql::Result<Vec<Activity>> {
        let filter = filter.unwrap_or_default().parse()?;
        let page = timeline_page(first, after.as_ref())?;
        let tx = Caller::of(ctx)?.tx().await?;
        let rows = list_activities(&tx, filter, page).await?;
        tx.commit().await?;
        Ok(rows.into_iter().map(Activity).collect())
    }

    #[graphql(entity)]
    async fn find_activity_by_id(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<Activity>> {
        let caller = Caller::of(ctx)?;
        let id = ActivityId::parse(&id, "id")?;
        Ok(caller.loader::<ActivityLoader, ActivityId>().load_one(id).await?.map(Activity))
    }

    /// Timelines are read in the caller's tenant, so a foreign id has an empty timeline.
    #[graphql(entity)]
    async fn find_deal_by_id(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<DealRef> {
        Caller::of(ctx)?;
        Ok(DealRef(DealId::parse(&id, "id")?))
    }

    #[graphql(entity)]
    async fn find_company_by_id(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<CompanyRef> {
        Caller::of(ctx)?;
        Ok(CompanyRef(CompanyId::parse(&id, "id")?))
    }

    #[graphql(entity)]
    async fn find_contact_by_id(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<ContactRef> {
        Caller::of(ctx)?;
        Ok(ContactRef(ContactId::parse(&id, "id")?))
    }
}
