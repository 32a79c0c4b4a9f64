//! Deals: creation with their contacts, stage moves (each emitting `deal.stage_changed` through
//! the outbox in the same transaction), pages, and batched lookups.

pub mod edit;
pub mod filters;
pub mod list;
pub mod moves;
pub mod trash;

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use chrono::Utc;
use crm_entities::events::deal::DealCreated;
use crm_entities::ids::{CompanyId, ContactId, DealId, PipelineId, StageId};
use crm_entities::tenant::deal::DealStatus;
use crm_entities::tenant::{deal, deal_contact, deal_stage_change};
use crm_platform::error::is_foreign_key_violation;
use crm_platform::events::{self, Envelope};
use crm_platform::ids::UserId;
use crm_platform::sql::columns;
use crm_platform::tenancy::find_by_ids;
use crm_platform::{ApiError, ApiResult, TenantTx};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult, IntoActiveModel, Set,
    Statement,
};

use self::edit::DealPatch;

use crate::pipelines::starting_stage;
use crate::relocate::{end_of, lock_stage, record_creation, status_in};

pub const MAX_DEAL_CONTACTS: usize = 50;

/// A deal to create: its fields as a patch over an empty deal (the currency defaults to the
/// organization's), where it starts, and its contacts.
pub struct NewDeal {
    pub fields: DealPatch,
    pub pipeline: Option<PipelineId>,
    pub stage: Option<StageId>,
    pub contacts: Vec<ContactId>,
}

/// The organization's currency setting.
async fn organization_currency(tx: &TenantTx) -> ApiResult<String> {
    let row = tx
        .query_one(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT currency FROM crm.tenants WHERE id = $1",
            [tx.tenant().0.into()],
        ))
        .await?;
    Ok(row.map(|r| r.try_get::<String>("", "currency")).transpose()?.unwrap_or_else(|| "USD".to_owned()))
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
    let defs = edit::definitions(tx).await?;
    let stage = starting_stage(tx, new.pipeline, new.stage).await?;
    // At the end of the stage's board, which waits for other moves into the stage.
    let stage = lock_stage(tx, StageId(stage.id)).await?.ok_or(ApiError::NotFound("stage"))?;
    let position = end_of(tx, stage.id).await?;
    let now = Utc::now();
    let status = status_in(stage.kind);
    let mut row = deal::Model {
        id: DealId::new().0,
        title: String::new(),
        amount: None,
        currency: organization_currency(tx).await?,
        pipeline_id: stage.pipeline_id,
        stage_id: stage.id,
        company_id: None,
        owner_id: None,
        expected_close_date: None,
        probability: None,
        status,
        lost_reason: None,
        closed_at: (status != DealStatus::Open).then_some(now),
        position,
        stage_entered_at: now,
        version: 1,
        custom_fields: serde_json::json!({}),
        created_by: Some(actor.0),
        updated_by: Some(actor.0),
        created_at: now,
        updated_at: now,
        deleted_at: None,
    };
    if new.fields.title.is_none() {
        return Err(ApiError::bad_input("title", "title must not be empty"));
    }
    edit::apply(tx, &defs, &mut row, new.fields, true).await?;
    let deal = row
        .into_active_model()
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

pub(crate) fn reference_error(err: DbErr, constraint: &str, field: &'static str, message: &str) -> ApiError {
    if is_foreign_key_violation(&err, constraint) { ApiError::bad_input(field, message) } else { err.into() }
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
        let statement = Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(
                "SELECT {}, dc.contact_id AS linked_contact_id
                 FROM deal_contacts dc JOIN deals d ON d.id = dc.deal_id
                 WHERE dc.contact_id = ANY($1) AND d.deleted_at IS NULL
                 ORDER BY d.id DESC",
                columns::<deal::Entity>("d")
            ),
            [ids.iter().map(|id| id.0).collect::<Vec<_>>().into()],
        );
        let rows = self.reads.read(async |tx| tx.query_all(statement).await).await.map_err(ApiError::from)?;
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
    /// The contacts linked to each deal, with their roles, in the order they were linked.
    ContactsOfDealLoader
);

impl Loader<DealId> for ContactsOfDealLoader {
    type Value = Vec<deal_contact::Model>;
    type Error = async_graphql::Error;

    async fn load(&self, ids: &[DealId]) -> Result<HashMap<DealId, Self::Value>, Self::Error> {
        let mut links = find_by_ids::<deal_contact::Entity>(
            &self.reads,
            deal_contact::Column::DealId,
            ids.iter().map(|id| id.0),
        )
        .await
        .map_err(ApiError::from)?;
        links.sort_by_key(|link| (link.created_at, link.contact_id));
        let mut by_deal: HashMap<DealId, Self::Value> = ids.iter().map(|id| (*id, Vec::new())).collect();
        for link in links {
            by_deal.entry(DealId(link.deal_id)).or_default().push(link);
        }
        Ok(by_deal)
    }
}

crm_platform::tenant_loader!(
    /// The stages each deal entered, oldest first.
    StageHistoryLoader
);

impl Loader<DealId> for StageHistoryLoader {
    type Value = Vec<deal_stage_change::Model>;
    type Error = async_graphql::Error;

    async fn load(&self, ids: &[DealId]) -> Result<HashMap<DealId, Self::Value>, Self::Error> {
        let mut changes = find_by_ids::<deal_stage_change::Entity>(
            &self.reads,
            deal_stage_change::Column::DealId,
            ids.iter().map(|id| id.0),
        )
        .await
        .map_err(ApiError::from)?;
        changes.sort_by_key(|change| (change.changed_at, change.id));
        let mut by_deal: HashMap<DealId, Self::Value> = ids.iter().map(|id| (*id, Vec::new())).collect();
        for change in changes {
            by_deal.entry(DealId(change.deal_id)).or_default().push(change);
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
        let mut rows =
            find_by_ids::<deal::Entity>(&self.reads, deal::Column::CompanyId, ids.iter().map(|id| id.0))
                .await
                .map_err(ApiError::from)?;
        rows.retain(|deal| deal.deleted_at.is_none());
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
