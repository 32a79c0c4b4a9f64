use async_graphql::{Context, ID, InputObject, Json, MaybeUndefined, MergedObject, Object};
use crm_entities::ids::{CompanyId, ContactId, DealId, PipelineId, StageId};
use crm_platform::date::Date;
use crm_platform::ids::UserId;
use crm_platform::patch::{self, change, required_change};
use crm_platform::{ApiError, ApiResult, Caller, text};
use rust_decimal::Decimal;
use serde_json::Value;

use super::pipelines::PipelineMutation;
use super::types::Deal;
use crate::deals::edit::{self, DealPatch};
use crate::deals::moves::{self, DealOutcome};
use crate::deals::{MAX_DEAL_CONTACTS, NewDeal, create_deal, trash};

#[derive(InputObject)]
pub struct CreateDealInput {
    pub title: String,
    pub amount: Option<Decimal>,
    /// ISO 4217 code, e.g. `USD`; the organization's currency when absent.
    pub currency: Option<String>,
    pub expected_close_date: Option<Date>,
    /// Win probability in percent, when it differs from the stage's default.
    pub probability: Option<i32>,
    /// A member of the organization.
    pub owner_id: Option<ID>,
    /// Defaults to the default pipeline.
    pub pipeline_id: Option<ID>,
    /// Defaults to the pipeline's first stage.
    pub stage_id: Option<ID>,
    #[graphql(default)]
    pub contact_ids: Vec<ID>,
    pub company_id: Option<ID>,
    /// Values by custom field key, checked against the DEAL definitions.
    pub custom_fields: Option<Json<Value>>,
}

fn owner(id: ID) -> ApiResult<Option<UserId>> {
    UserId::parse(&id, "ownerId").map(Some)
}

fn company(id: ID) -> ApiResult<Option<CompanyId>> {
    CompanyId::parse(&id, "companyId").map(Some)
}

impl CreateDealInput {
    fn parse(self) -> ApiResult<NewDeal> {
        if self.contact_ids.len() > MAX_DEAL_CONTACTS {
            return Err(ApiError::bad_input(
                "contactIds",
                format!("a deal can have at most {MAX_DEAL_CONTACTS} contacts"),
            ));
        }
        let fields = DealPatch {
            title: Some(text::required("title", &self.title, 200)?),
            amount: Some(self.amount),
            currency: self.currency,
            expected_close_date: Some(self.expected_close_date.map(|d| d.0)),
            probability: Some(self.probability),
            owner: self.owner_id.map(owner).transpose()?,
            company: self.company_id.map(company).transpose()?,
            custom_fields: self.custom_fields.map(patch::custom_fields).transpose()?,
        };
        Ok(NewDeal {
            fields,
            pipeline: self.pipeline_id.as_ref().map(|id| PipelineId::parse(id, "pipelineId")).transpose()?,
            stage: self.stage_id.as_ref().map(|id| StageId::parse(id, "stageId")).transpose()?,
            contacts: self
                .contact_ids
                .iter()
                .map(|id| ContactId::parse(id, "contactIds"))
                .collect::<Result<_, _>>()?,
        })
    }
}

/// A partial update: an absent field is kept, `null` clears it.
#[derive(InputObject, Default)]
pub struct UpdateDealInput {
    pub title: MaybeUndefined<String>,
    pub amount: MaybeUndefined<Decimal>,
    pub currency: MaybeUndefined<String>,
    pub expected_close_date: MaybeUndefined<Date>,
    /// `null`: back to the stage's default probability.
    pub probability: MaybeUndefined<i32>,
    pub owner_id: MaybeUndefined<ID>,
    pub company_id: MaybeUndefined<ID>,
    /// Only the keys given change; `null` clears one.
    pub custom_fields: MaybeUndefined<Json<Value>>,
}

impl UpdateDealInput {
    fn parse(self) -> ApiResult<DealPatch> {
        Ok(DealPatch {
            title: required_change("title", self.title, Ok)?,
            amount: change(self.amount, |a| Ok(Some(a)))?,
            currency: required_change("currency", self.currency, Ok)?,
            expected_close_date: change(self.expected_close_date, |d| Ok(Some(d.0)))?,
            probability: change(self.probability, |p| Ok(Some(p)))?,
            owner: change(self.owner_id, owner)?,
            company: change(self.company_id, company)?,
            custom_fields: required_change("customFields", self.custom_fields, patch::custom_fields)?,
        })
    }
}

#[derive(Default)]
pub struct DealMutation;

/// Deal writes and pipeline management, one `Mutation` type.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(DealMutation, PipelineMutation);

fn deal_id(id: &ID) -> ApiResult<DealId> {
    DealId::parse(id, "id")
}

#[Object]
impl DealMutation {
    async fn create_deal(&self, ctx: &Context<'_>, input: CreateDealInput) -> async_graphql::Result<Deal> {
        let caller = Caller::of(ctx)?;
        let new = input.parse()?;
        let tx = caller.write_tx().await?;
        let deal = create_deal(&tx, caller.user(), new).await?;
        tx.commit().await?;
        Ok(Deal(deal))
    }

    /// Changes the fields given; `deal.updated` carries each change's previous and new value.
    async fn update_deal(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateDealInput,
    ) -> async_graphql::Result<Deal> {
        let caller = Caller::of(ctx)?;
        let id = deal_id(&id)?;
        let patch = input.parse()?;
        let tx = caller.write_tx().await?;
        let deal = edit::update_deal(&tx, caller.user(), id, patch).await?;
        tx.commit().await?;
        Ok(Deal(deal))
    }

    /// Moves a deal to a stage of its pipeline: before the deal `beforeId` on the board, or at
    /// the end of the stage. Moving into a WON or LOST stage closes the deal; out of one,
    /// reopens it. Subscribers of `dealChanged` see it.
    async fn move_deal(
        &self,
        ctx: &Context<'_>,
        id: ID,
        stage_id: ID,
        before_id: Option<ID>,
    ) -> async_graphql::Result<Deal> {
        let caller = Caller::of(ctx)?;
        let id = deal_id(&id)?;
        let stage = StageId::parse(&stage_id, "stageId")?;
        let before = before_id.as_ref().map(|b| DealId::parse(b, "beforeId")).transpose()?;
        let tx = caller.write_tx().await?;
        let deal = moves::move_deal(&tx, caller.user(), id, stage, before).await?;
        tx.commit().await?;
        Ok(Deal(deal))
    }

    /// Closes a deal into its pipeline's WON or LOST stage; a lost reason goes with LOST.
    async fn close_deal(
        &self,
        ctx: &Context<'_>,
        id: ID,
        outcome: DealOutcome,
        lost_reason: Option<String>,
    ) -> async_graphql::Result<Deal> {
        let caller = Caller::of(ctx)?;
        let id = deal_id(&id)?;
        let tx = caller.write_tx().await?;
        let deal = moves::close_deal(&tx, caller.user(), id, outcome, lost_reason.as_deref()).await?;
        tx.commit().await?;
        Ok(Deal(deal))
    }

    /// Reopens a closed deal, back into the last OPEN stage it was in.
    async fn reopen_deal(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Deal> {
        let caller = Caller::of(ctx)?;
        let id = deal_id(&id)?;
        let tx = caller.write_tx().await?;
        let deal = moves::reopen_deal(&tx, caller.user(), id).await?;
        tx.commit().await?;
        Ok(Deal(deal))
    }

    /// Links a contact to the deal with a role (decision maker, champion…), or changes the role.
    async fn add_deal_contact(
        &self,
        ctx: &Context<'_>,
        deal_id: ID,
        contact_id: ID,
        role: Option<String>,
    ) -> async_graphql::Result<Deal> {
        let caller = Caller::of(ctx)?;
        let deal = DealId::parse(&deal_id, "dealId")?;
        let contact = ContactId::parse(&contact_id, "contactId")?;
        let tx = caller.write_tx().await?;
        let deal = edit::add_contact(&tx, caller.user(), deal, contact, role.as_deref()).await?;
        tx.commit().await?;
        Ok(Deal(deal))
    }

    async fn remove_deal_contact(
        &self,
        ctx: &Context<'_>,
        deal_id: ID,
        contact_id: ID,
    ) -> async_graphql::Result<Deal> {
        let caller = Caller::of(ctx)?;
        let deal = DealId::parse(&deal_id, "dealId")?;
        let contact = ContactId::parse(&contact_id, "contactId")?;
        let tx = caller.write_tx().await?;
        let deal = edit::remove_contact(&tx, caller.user(), deal, contact).await?;
        tx.commit().await?;
        Ok(Deal(deal))
    }

    /// Moves a deal to the trash: off boards, lists and analytics until restored.
    async fn delete_deal(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Deal> {
        let caller = Caller::of(ctx)?;
        let id = deal_id(&id)?;
        let tx = caller.write_tx().await?;
        let deal = trash::delete_deal(&tx, caller.user(), id).await?;
        tx.commit().await?;
        Ok(Deal(deal))
    }

    async fn restore_deal(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Deal> {
        let caller = Caller::of(ctx)?;
        let id = deal_id(&id)?;
        let tx = caller.write_tx().await?;
        let deal = trash::restore_deal(&tx, caller.user(), id).await?;
        tx.commit().await?;
        Ok(Deal(deal))
    }
}
