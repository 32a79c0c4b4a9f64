use async_graphql::dataloader::Loader;
use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use crm_entities::ids::{CompanyId, ContactId, DealId};
use crm_entities::tenant::activity::{self, ActivityType};
use crm_platform::auth::TenantLoader;
use crm_platform::pagination::PageRequest;
use crm_platform::user_ref::UserRef;
use crm_platform::{ApiResult, Caller};

use crate::activities::{CompanyTimelineLoader, ContactTimelineLoader, DealTimelineLoader, TimelinePage};

/// Something that happened with a deal or contact: a note, call, email or meeting.
pub struct Activity(pub activity::Model);

#[Object]
impl Activity {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    #[graphql(name = "type")]
    async fn kind(&self) -> ActivityType {
        self.0.kind
    }
    async fn subject(&self) -> &str {
        &self.0.subject
    }
    async fn body(&self) -> Option<&str> {
        self.0.body.as_deref()
    }
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn deal(&self) -> Option<DealRef> {
        self.0.deal_id.map(|id| DealRef(DealId(id)))
    }
    async fn contact(&self) -> Option<ContactRef> {
        self.0.contact_id.map(|id| ContactRef(ContactId(id)))
    }
    async fn company(&self) -> Option<CompanyRef> {
        self.0.company_id.map(|id| CompanyRef(CompanyId(id)))
    }
    /// Who logged it; null for what the system records.
    async fn author(&self) -> Option<UserRef> {
        UserRef::of(self.0.author_id)
    }
    async fn duration_minutes(&self) -> Option<i32> {
        self.0.duration_minutes
    }
    async fn outcome(&self) -> Option<&str> {
        self.0.outcome.as_deref()
    }
    async fn participants(&self) -> &[String] {
        &self.0.participants
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// Another subgraph's entity (`$graphql`, keyed by `$id`), extended with its timeline read
/// through `$loader`.
macro_rules! timeline_ref {
    ($(#[$doc:meta])* $name:ident, $graphql:literal, $id:ty, $loader:ty) => {
        $(#[$doc])*
        pub struct $name(pub $id);

        #[Object(name = $graphql)]
        impl $name {
            async fn id(&self) -> ID {
                self.0.into()
            }
            /// Newest first. Pass the last activity's id as `after` for the next page. Null
            /// only when the activities could not be read (an error with a code says why), so
            /// an outage of activities never costs the rest of a response.
            #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
            async fn activities(
                &self,
                ctx: &Context<'_>,
                first: Option<i32>,
                after: Option<ID>,
            ) -> async_graphql::Result<Option<Vec<Activity>>> {
                timeline::<$loader, _>(ctx, self.0, first, after.as_ref()).await.map(Some)
            }
        }
    };
}

timeline_ref!(
    /// The contact subgraph's `Company`, extended with its timeline.
    CompanyRef, "Company", CompanyId, CompanyTimelineLoader
);
timeline_ref!(
    /// The deal subgraph's `Deal`, extended with its timeline.
    DealRef, "Deal", DealId, DealTimelineLoader
);
timeline_ref!(
    /// The contact subgraph's `Contact`, extended with its timeline.
    ContactRef, "Contact", ContactId, ContactTimelineLoader
);

/// One timeline page of `parent`, through the request's batching loader `L`.
async fn timeline<L, P>(
    ctx: &Context<'_>,
    parent: P,
    first: Option<i32>,
    after: Option<&ID>,
) -> async_graphql::Result<Vec<Activity>>
where
    L: TenantLoader + Loader<(P, TimelinePage), Value = Vec<activity::Model>, Error = async_graphql::Error>,
    P: Send + Sync + Copy + std::hash::Hash + Eq + 'static,
{
    let caller = Caller::of(ctx)?;
    let page = timeline_page(first, after)?;
    let rows = caller.loader::<L, (P, TimelinePage)>().load_one((parent, page)).await?;
    Ok(rows.unwrap_or_default().into_iter().map(Activity).collect())
}

pub fn timeline_page(first: Option<i32>, after: Option<&ID>) -> ApiResult<TimelinePage> {
    let size = PageRequest::parse(first, None)?.size;
    let after = after.map(|id| crm_entities::ids::ActivityId::parse(id, "after")).transpose()?.map(|id| id.0);
    Ok(TimelinePage { size, after })
}
