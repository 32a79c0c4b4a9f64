use async_graphql::{Context, ID, InputObject, MergedObject, Object};
use chrono::{DateTime, Utc};
use crm_entities::ids::{ContactId, DealId};
use crm_platform::Caller;
use crm_platform::text;

use crm_entities::tenant::activity::ActivityType;

use super::templates::TemplateMutation;
use super::types::Activity;
use crate::activities::{NewActivity, log_activity};

#[derive(InputObject)]
pub struct LogActivityInput {
    #[graphql(name = "type")]
    pub kind: ActivityType,
    pub subject: String,
    pub body: Option<String>,
    pub deal_id: Option<ID>,
    pub contact_id: Option<ID>,
    /// Defaults to now.
    pub occurred_at: Option<DateTime<Utc>>,
}

impl LogActivityInput {
    fn parse(self) -> crm_platform::ApiResult<NewActivity> {
        Ok(NewActivity {
            kind: self.kind,
            subject: text::required("subject", &self.subject, 300)?,
            body: text::optional("body", self.body.as_deref(), 20_000)?,
            deal: self.deal_id.as_ref().map(|id| DealId::parse(id, "dealId")).transpose()?,
            contact: self.contact_id.as_ref().map(|id| ContactId::parse(id, "contactId")).transpose()?,
            occurred_at: self.occurred_at.unwrap_or_else(Utc::now),
        })
    }
}

#[derive(Default)]
pub struct ActivityMutation;

/// Activity and email template writes, one `Mutation` type.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(ActivityMutation, TemplateMutation);

#[Object]
impl ActivityMutation {
    /// Records a note, call, email or meeting on a deal and/or contact.
    async fn log_activity(
        &self,
        ctx: &Context<'_>,
        input: LogActivityInput,
    ) -> async_graphql::Result<Activity> {
        let caller = Caller::of(ctx)?;
        let new = input.parse()?;
        let tx = caller.write_tx().await?;
        let activity = log_activity(&tx, caller.user(), new).await?;
        tx.commit().await?;
        Ok(Activity(activity))
    }
}
