use async_graphql::{Context, ID, InputObject, MergedObject, Object};
use crm_entities::ids::{CompanyId, ContactId, DealId, PipelineId, StageId};
use crm_platform::Caller;
use crm_platform::text;
use rust_decimal::Decimal;

use super::pipelines::PipelineMutation;
use super::types::Deal;
use crate::deals::{MAX_DEAL_CONTACTS, NewDeal, check_amount, create_deal, move_deal, parse_currency};

#[derive(InputObject)]
pub struct CreateDealInput {
    pub title: String,
    pub amount: Option<Decimal>,
    /// ISO 4217 code, e.g. `USD`.
    pub currency: String,
    /// Defaults to the default pipeline.
    pub pipeline_id: Option<ID>,
    /// Defaults to the pipeline's first stage.
    pub stage_id: Option<ID>,
    #[graphql(default)]
    pub contact_ids: Vec<ID>,
    pub company_id: Option<ID>,
}

impl CreateDealInput {
    fn parse(self) -> crm_platform::ApiResult<NewDeal> {
        if self.contact_ids.len() > MAX_DEAL_CONTACTS {
            return Err(crm_platform::ApiError::bad_input(
                "contactIds",
                format!("a deal can have at most {MAX_DEAL_CONTACTS} contacts"),
            ));
        }
        Ok(NewDeal {
            title: text::required("title", &self.title, 200)?,
            amount: check_amount(self.amount)?,
            currency: parse_currency(&self.currency)?,
            pipeline: self.pipeline_id.as_ref().map(|id| PipelineId::parse(id, "pipelineId")).transpose()?,
            stage: self.stage_id.as_ref().map(|id| StageId::parse(id, "stageId")).transpose()?,
            contacts: self
                .contact_ids
                .iter()
                .map(|id| ContactId::parse(id, "contactIds"))
                .collect::<Result<_, _>>()?,
            company: self.company_id.as_ref().map(|id| CompanyId::parse(id, "companyId")).transpose()?,
        })
    }
}

#[derive(Default)]
pub struct DealMutation;

/// Deal writes and pipeline management, one `Mutation` type.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(DealMutation, PipelineMutation);

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

    /// Moves a deal to another stage of its pipeline; subscribers of `dealChanged` see it.
    async fn move_deal(&self, ctx: &Context<'_>, id: ID, stage_id: ID) -> async_graphql::Result<Deal> {
        let caller = Caller::of(ctx)?;
        let id = DealId::parse(&id, "id")?;
        let stage = StageId::parse(&stage_id, "stageId")?;
        let tx = caller.write_tx().await?;
        let deal = move_deal(&tx, caller.user(), id, stage).await?;
        tx.commit().await?;
        Ok(Deal(deal))
    }
}
