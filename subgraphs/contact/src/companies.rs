//! Companies: creation, pages, and batched lookups by id.

use chrono::Utc;
use crm_entities::events::contact::CompanyCreated;
use crm_entities::ids::CompanyId;
use crm_entities::tenant::company;
use crm_platform::events::{self, Envelope};
use crm_platform::ids::UserId;
use crm_platform::pagination::{PageRequest, split_page};
use crm_platform::{ApiResult, TenantTx};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

pub struct NewCompany {
    pub name: String,
    pub domain: Option<String>,
}

#[tracing::instrument(skip_all, fields(tenant.id = %tx.tenant()))]
pub async fn create_company(tx: &TenantTx, actor: UserId, new: NewCompany) -> ApiResult<company::Model> {
    let now = Utc::now();
    let model = company::ActiveModel {
        id: Set(CompanyId::new().0),
        name: Set(new.name),
        domain: Set(new.domain),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&**tx)
    .await?;
    let event = Envelope::new(tx.tenant(), Some(actor), &CompanyCreated { company_id: CompanyId(model.id) })?;
    events::enqueue(&**tx, &event).await?;
    Ok(model)
}

pub async fn list_companies(tx: &TenantTx, page: &PageRequest) -> ApiResult<(Vec<company::Model>, bool)> {
    let mut query = company::Entity::find().order_by_desc(company::Column::Id).limit(page.fetch_limit());
    if let Some(after) = page.after {
        query = query.filter(company::Column::Id.lt(after));
    }
    Ok(split_page(query.all(&**tx).await?, page))
}

crm_platform::id_loader!(
    /// Companies of the caller's tenant by id.
    CompanyLoader,
    CompanyId,
    company
);
