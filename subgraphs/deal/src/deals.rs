//! Deals: creation with their contacts, stage moves (each emitting `deal.stage_changed` through
//! the outbox in the same transaction), pages, and batched lookups.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use chrono::Utc;
use crm_entities::events::deal::DealCreated;
use crm_entities::ids::{CompanyId, ContactId, DealId, PipelineId, StageId};
use crm_entities::tenant::deal::DealStatus;
use crm_entities::tenant::{deal, deal_contact};
use crm_platform::error::is_foreign_key_violation;
use crm_platform::events::{self, Envelope};
use crm_platform::ids::UserId;
use crm_platform::pagination::{PageRequest, split_page};
use crm_platform::tenancy::find_by_ids;
use crm_platform::{ApiError, ApiResult, TenantTx};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult,
    QueryFilter, QueryOrder, QuerySelect, Set, Statement,
};

use crate::pipelines::starting_stage;
use crate::relocate::{end_of, lock_stage, record_creation, relocate, status_in};

pub const MAX_DEAL_CONTACTS: usize = 50;

pub struct NewDeal {
    pub title: String,
    pub amount: Option<Decimal>,
    pub currency: String,
    pub pipeline: Option<PipelineId>,
    pub stage: Option<StageId>,
    pub contacts: Vec<ContactId>,
    pub company: Option<CompanyId>,
}

/// ISO 4217 codes are three uppercase letters.
pub fn parse_currency(raw: &str) -> ApiResult<String> {
    let code = raw.trim().to_ascii_uppercase();
    if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(code)
    } else {
        Err(ApiError::bad_input("currency", "currency must be an ISO 4217 code such as USD"))
    }
}

pub fn check_amount(amount: Option<Decimal>) -> ApiResult<Option<Decimal>> {
    let limit = Decimal::new(9_999_999_999_999_999, 2);
    match amount {
        Some(a) if a.is_sign_negative() || a > limit || a.scale() > 2 => Err(ApiError::bad_input(
            "amount",
            "amount must be between 0 and 99999999999999.99 with at most 2 decimals",
        )),
        other => Ok(other),
    }
}

#[tracing::instrument(skip_all, fields(tenant.id = %tx.tenant()))]
pub async fn create_deal(tx: &TenantTx, actor: UserId, new: NewDeal) -> ApiResult<deal::Model> {
    let stage = starting_stage(tx, new.pipeline, new.stage).await?;
    // At the end of the stage's board, which waits for other moves into the stage.
    let stage = lock_stage(tx, StageId(stage.id)).await?.ok_or(ApiError::NotFound("stage"))?;
    let position = end_of(tx, stage.id).await?;
    let now = Utc::now();
    let status = status_in(stage.kind);
    let deal = deal::ActiveModel {
        id: Set(DealId::new().0),
        title: Set(new.title),
        amount: Set(new.amount),
        currency: Set(new.currency),
        pipeline_id: Set(stage.pipeline_id),
        stage_id: Set(stage.id),
        company_id: Set(new.company.map(|c| c.0)),
        owner_id: Set(None),
        expected_close_date: Set(None),
        probability: Set(None),
        status: Set(status),
        lost_reason: Set(None),
        closed_at: Set((status != DealStatus::Open).then_some(now)),
        position: Set(position),
        stage_entered_at: Set(now),
        version: Set(1),
        custom_fields: Set(serde_json::json!({})),
        created_by: Set(Some(actor.0)),
        updated_by: Set(Some(actor.0)),
        created_at: Set(now),
        updated_at: Set(now),
        deleted_at: Set(None),
    }
    .insert(&**tx)
    .await
    .map_err(|err| reference_error(err, "deals_company_id_fkey", "companyId", "company not found"))?;
    record_creation(tx, actor, &deal, &stage.name).await?;

    let mut contacts = new.contacts;
    contacts.sort();
    contacts.dedup();
    if !contacts.is_empty() {
        let links = contacts.iter().map(|contact| deal_contact::ActiveModel {
            deal_id: Set(deal.id),
            contact_id: Set(contact.0),
            role: Set(None),
            created_at: Set(now),
        });
        deal_contact::Entity::insert_many(links).exec(&**tx).await.map_err(|err| {
            reference_error(err, "deal_contacts_contact_id_fkey", "contactIds", "contact not found")
        })?;
    }
    let created = DealCreated { deal_id: DealId(deal.id), version: deal.version };
    let event = Envelope::new(tx.tenant(), Some(actor), &created)?;
    events::enqueue(&**tx, &event).await?;
    Ok(deal)
}

fn reference_error(err: DbErr, constraint: &str, field: &'static str, message: &str) -> ApiError {
    if is_foreign_key_violation(&err, constraint) { ApiError::bad_input(field, message) } else { err.into() }
}

/// Moves a deal to `stage` of its own pipeline, at the end of the stage's board. Moving to the
/// current stage changes nothing and emits nothing.
#[tracing::instrument(skip_all, fields(tenant.id = %tx.tenant(), deal.id = %id))]
pub async fn move_deal(tx: &TenantTx, actor: UserId, id: DealId, stage: StageId) -> ApiResult<deal::Model> {
    let deal = deal::Entity::find_by_id(id.0)
        .lock_exclusive()
        .one(&**tx)
        .await?
        .filter(|d| d.deleted_at.is_none())
        .ok_or(ApiError::NotFound("deal"))?;
    if deal.stage_id == stage.0 {
        return Ok(deal);
    }
    let target = lock_stage(tx, stage)
        .await?
        .filter(|s| s.pipeline_id == deal.pipeline_id)
        .ok_or_else(|| ApiError::bad_input("stageId", "stage is not in the deal's pipeline"))?;
    let mut moved = relocate(tx, actor, vec![deal], &target).await?;
    moved.pop().ok_or_else(|| ApiError::internal(std::io::Error::other("the moved deal vanished")))
}

pub struct DealFilter {
    pub pipeline: Option<PipelineId>,
    pub stage: Option<StageId>,
}

/// Newest first.
pub async fn list_deals(
    tx: &TenantTx,
    filter: &DealFilter,
    page: &PageRequest,
) -> ApiResult<(Vec<deal::Model>, bool)> {
    let mut query = deal::Entity::find().order_by_desc(deal::Column::Id).limit(page.fetch_limit());
    if let Some(after) = page.after {
        query = query.filter(deal::Column::Id.lt(after));
    }
    if let Some(pipeline) = filter.pipeline {
        query = query.filter(deal::Column::PipelineId.eq(pipeline.0));
    }
    if let Some(stage) = filter.stage {
        query = query.filter(deal::Column::StageId.eq(stage.0));
    }
    Ok(split_page(query.all(&**tx).await?, page))
}

crm_platform::id_loader!(
    /// Deals by id.
    DealLoader,
    DealId,
    deal
);

crm_platform::tenant_loader!(
    /// The deals of each contact, newest first: one statement per batch, whatever its size.
    DealsOfContactLoader
);

impl Loader<ContactId> for DealsOfContactLoader {
    type Value = Vec<deal::Model>;
    type Error = async_graphql::Error;

    async fn load(&self, ids: &[ContactId]) -> Result<HashMap<ContactId, Self::Value>, Self::Error> {
        let tx = TenantTx::begin(&self.db, self.tenant).await.map_err(ApiError::from)?;
        let rows = tx
            .query_all(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT d.*, dc.contact_id AS linked_contact_id
                 FROM deal_contacts dc JOIN deals d ON d.id = dc.deal_id
                 WHERE dc.contact_id = ANY($1)
                 ORDER BY d.id DESC",
                [ids.iter().map(|id| id.0).collect::<Vec<_>>().into()],
            ))
            .await
            .map_err(ApiError::from)?;
        tx.commit().await?;
        let mut by_contact: HashMap<ContactId, Self::Value> =
            ids.iter().map(|id| (*id, Vec::new())).collect();
        for row in rows {
            let contact: uuid::Uuid = row.try_get("", "linked_contact_id").map_err(ApiError::from)?;
            let deal = deal::Model::from_query_result(&row, "").map_err(ApiError::from)?;
            by_contact.entry(ContactId(contact)).or_default().push(deal);
        }
        Ok(by_contact)
    }
}

crm_platform::tenant_loader!(
    /// The contact ids linked to each deal.
    ContactsOfDealLoader
);

impl Loader<DealId> for ContactsOfDealLoader {
    type Value = Vec<ContactId>;
    type Error = async_graphql::Error;

    async fn load(&self, ids: &[DealId]) -> Result<HashMap<DealId, Self::Value>, Self::Error> {
        let links = find_by_ids::<deal_contact::Entity>(
            &self.db,
            self.tenant,
            deal_contact::Column::DealId,
            ids.iter().map(|id| id.0),
        )
        .await
        .map_err(ApiError::from)?;
        let mut by_deal: HashMap<DealId, Self::Value> = ids.iter().map(|id| (*id, Vec::new())).collect();
        for link in links {
            by_deal.entry(DealId(link.deal_id)).or_default().push(ContactId(link.contact_id));
        }
        Ok(by_deal)
    }
}

crm_platform::tenant_loader!(
    /// The deals of each company, newest first.
    DealsOfCompanyLoader
);

impl Loader<CompanyId> for DealsOfCompanyLoader {
    type Value = Vec<deal::Model>;
    type Error = async_graphql::Error;

    async fn load(&self, ids: &[CompanyId]) -> Result<HashMap<CompanyId, Self::Value>, Self::Error> {
        let mut rows = find_by_ids::<deal::Entity>(
            &self.db,
            self.tenant,
            deal::Column::CompanyId,
            ids.iter().map(|id| id.0),
        )
        .await
        .map_err(ApiError::from)?;
        rows.sort_by_key(|deal| std::cmp::Reverse(deal.id));
        let mut by_company: HashMap<CompanyId, Self::Value> =
            ids.iter().map(|id| (*id, Vec::new())).collect();
        for deal in rows {
            if let Some(company) = deal.company_id {
                by_company.entry(CompanyId(company)).or_default().push(deal);
            }
        }
        Ok(by_company)
    }
}
