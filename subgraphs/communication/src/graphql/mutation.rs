use async_graphql::{Context, ID, InputObject, MaybeUndefined, MergedObject, Object};
use chrono::{DateTime, Utc};
use crm_entities::ids::{ActivityId, CompanyId, ContactId, DealId};
use crm_platform::auth::Role;

use super::emails::EmailMutation;
use crm_platform::patch::change;
use crm_platform::{ApiError, ApiResult, Caller, text};

use crm_entities::tenant::activity::ActivityType;

use super::tasks::TaskMutation;
use super::templates::TemplateMutation;
use super::types::Activity;
use super::webhooks::WebhookMutation;
use crate::activities::{ActivityPatch, Editor, NewActivity, delete_activity, log_activity, update_activity};

#[derive(InputObject)]
pub struct LogActivityInput {
    #[graphql(name = "type")]
    pub kind: ActivityType,
    pub subject: String,
    pub body: Option<String>,
    pub deal_id: Option<ID>,
    pub contact_id: Option<ID>,
    pub company_id: Option<ID>,
    /// Defaults to now.
    pub occurred_at: Option<DateTime<Utc>>,
    /// 0 to 10080 (a week).
    pub duration_minutes: Option<i32>,
    /// How it went ("left a voicemail", "agreed to a demo").
    pub outcome: Option<String>,
    /// Who took part, as names or addresses (at most 50).
    #[graphql(default)]
    pub participants: Vec<String>,
}

impl LogActivityInput {
    fn parse(self) -> ApiResult<NewActivity> {
        Ok(NewActivity {
            kind: self.kind,
            subject: text::required("subject", &self.subject, 300)?,
            body: text::optional("body", self.body.as_deref(), 20_000)?,
            deal: self.deal_id.as_ref().map(|id| DealId::parse(id, "dealId")).transpose()?,
            contact: self.contact_id.as_ref().map(|id| ContactId::parse(id, "contactId")).transpose()?,
            company: self.company_id.as_ref().map(|id| CompanyId::parse(id, "companyId")).transpose()?,
            occurred_at: self.occurred_at.unwrap_or_else(Utc::now),
            duration_minutes: self.duration_minutes.map(duration).transpose()?,
            outcome: text::optional("outcome", self.outcome.as_deref(), 500)?,
            participants: participants(self.participants)?,
        })
    }
}

/// Only the fields given change; `null` clears an optional one.
#[derive(InputObject)]
pub struct UpdateActivityInput {
    #[graphql(name = "type")]
    pub kind: Option<ActivityType>,
    pub subject: Option<String>,
    pub body: MaybeUndefined<String>,
    pub occurred_at: Option<DateTime<Utc>>,
    pub duration_minutes: MaybeUndefined<i32>,
    pub outcome: MaybeUndefined<String>,
    pub participants: Option<Vec<String>>,
    pub deal_id: MaybeUndefined<ID>,
    pub contact_id: MaybeUndefined<ID>,
    pub company_id: MaybeUndefined<ID>,
}

impl UpdateActivityInput {
    fn parse(self) -> ApiResult<ActivityPatch> {
        Ok(ActivityPatch {
            kind: self.kind,
            subject: self.subject.map(|s| text::required("subject", &s, 300)).transpose()?,
            body: change(self.body, |b| text::optional("body", Some(&b), 20_000))?,
            occurred_at: self.occurred_at,
            duration_minutes: change(self.duration_minutes, |m| duration(m).map(Some))?,
            outcome: change(self.outcome, |o| text::optional("outcome", Some(&o), 500))?,
            participants: self.participants.map(participants).transpose()?,
            deal: change(self.deal_id, |id| DealId::parse(&id, "dealId").map(Some))?,
            contact: change(self.contact_id, |id| ContactId::parse(&id, "contactId").map(Some))?,
            company: change(self.company_id, |id| CompanyId::parse(&id, "companyId").map(Some))?,
        })
    }
}

fn duration(minutes: i32) -> ApiResult<i32> {
    if (0..=10_080).contains(&minutes) {
        Ok(minutes)
    } else {
        Err(ApiError::bad_input("durationMinutes", "durationMinutes is 0 to 10080 (a week)"))
    }
}

fn participants(names: Vec<String>) -> ApiResult<Vec<String>> {
    if names.len() > 50 {
        return Err(ApiError::bad_input("participants", "at most 50 participants"));
    }
    names.iter().map(|name| text::required("participants", name, 200)).collect()
}

fn editor(caller: &Caller) -> Editor {
    Editor { user: caller.user(), others: caller.claims.role.includes(Role::Admin) }
}

#[derive(Default)]
pub struct ActivityMutation;

/// Activity, task and email template writes, one `Mutation` type.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(ActivityMutation, TaskMutation, TemplateMutation, EmailMutation, WebhookMutation);

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
        let activity = log_activity(&tx, Some(caller.user()), new).await?;
        tx.commit().await?;
        Ok(Activity(activity))
    }

    /// Changes an activity: its author may, and admins.
    async fn update_activity(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateActivityInput,
    ) -> async_graphql::Result<Activity> {
        let caller = Caller::of(ctx)?;
        let id = ActivityId::parse(&id, "id")?;
        let patch = input.parse()?;
        let tx = caller.write_tx().await?;
        let activity = update_activity(&tx, editor(caller), id, patch).await?;
        tx.commit().await?;
        Ok(Activity(activity))
    }

    /// Deletes an activity: its author may, and admins.
    async fn delete_activity(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Activity> {
        let caller = Caller::of(ctx)?;
        let id = ActivityId::parse(&id, "id")?;
        let tx = caller.write_tx().await?;
        let activity = delete_activity(&tx, editor(caller), id).await?;
        tx.commit().await?;
        Ok(Activity(activity))
    }
}
