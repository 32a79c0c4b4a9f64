use async_graphql::{Context, ID, Object};
use crm_entities::ids::{CompanyId, ContactId};
use crm_entities::tenant::custom_field_definition::CustomFieldObject;
use crm_platform::{ApiError, Caller};

use super::transfers::ContactImport;
use super::types::{
    Company, CompanyConnection, Contact, ContactConnection, CustomFieldDefinition, DuplicateCandidate,
    page_size,
};
use crate::companies::CompanyLoader;
use crate::companies::list::{CompanyOrder, CompanyQuery};
use crate::contacts::ContactLoader;
use crate::contacts::list::{ContactOrder, ContactQuery};
use crate::filters::{CompanyFilter, ContactFilter};
use crate::imports::{find_import, recent_imports};

pub struct QueryRoot;

#[Object(name = "Query")]
impl QueryRoot {
    /// One contact (live or in the trash); NOT_FOUND when it does not exist in the caller's
    /// organization.
    async fn contact(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Contact>> {
        let caller = Caller::of(ctx)?;
        let id = ContactId::parse(&id, "id")?;
        let found = caller.loader::<ContactLoader, ContactId>().load_one(id).await?;
        Ok(Some(found.map(Contact).ok_or(ApiError::NotFound("contact"))?))
    }

    /// Contacts: newest first, by relevance when searching, or as `orderBy` says. `trashed: true`
    /// lists the trash instead.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn contacts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 1 to 100 (default 20).")] first: Option<i32>,
        after: Option<String>,
        filter: Option<ContactFilter>,
        order_by: Option<Vec<ContactOrder>>,
        #[graphql(default_with = "Some(false)")] trashed: Option<bool>,
    ) -> async_graphql::Result<ContactConnection> {
        let query = ContactQuery {
            filter,
            order: order_by.unwrap_or_default(),
            first: page_size(first)?,
            after,
            trashed: trashed.unwrap_or(false),
            company: None,
        };
        ContactConnection::load(ctx, query).await
    }

    /// Live contacts that look like this one, best match first.
    async fn contact_duplicates(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Vec<DuplicateCandidate>> {
        let contact = self.contact(ctx, id).await?.ok_or(ApiError::NotFound("contact"))?;
        contact.duplicates(ctx).await
    }

    /// One company (live or in the trash); NOT_FOUND when it does not exist in the caller's
    /// organization.
    async fn company(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Company>> {
        let caller = Caller::of(ctx)?;
        let id = CompanyId::parse(&id, "id")?;
        let found = caller.loader::<CompanyLoader, CompanyId>().load_one(id).await?;
        Ok(Some(found.map(Company).ok_or(ApiError::NotFound("company"))?))
    }

    /// Companies, newest first unless `orderBy` says otherwise.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn companies(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<CompanyFilter>,
        order_by: Option<Vec<CompanyOrder>>,
        #[graphql(default_with = "Some(false)")] trashed: Option<bool>,
    ) -> async_graphql::Result<CompanyConnection> {
        let query = CompanyQuery {
            filter,
            order: order_by.unwrap_or_default(),
            first: page_size(first)?,
            after,
            trashed: trashed.unwrap_or(false),
            parent: None,
        };
        CompanyConnection::load(ctx, query).await
    }

    /// The organization's custom fields of one kind of record, in display order.
    async fn custom_field_definitions(
        &self,
        ctx: &Context<'_>,
        object: CustomFieldObject,
    ) -> async_graphql::Result<Vec<CustomFieldDefinition>> {
        let caller = Caller::of(ctx)?;
        let tx = caller.tx().await?;
        let defs =
            crm_entities::custom_fields::Definitions::load(&*tx, object).await.map_err(ApiError::from)?;
        tx.commit().await?;
        Ok(defs.fields.into_iter().map(CustomFieldDefinition).collect())
    }

    /// One import, with its counts and reported rows.
    async fn contact_import(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<ContactImport> {
        let caller = Caller::of(ctx)?;
        let id = crm_platform::ids::parse_uuid(&id, "id", "contact import")?;
        let tx = caller.tx().await?;
        let model = find_import(&*tx, id).await?;
        tx.commit().await?;
        Ok(ContactImport { model, upload: None })
    }

    /// The organization's imports, newest first.
    async fn contact_imports(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
    ) -> async_graphql::Result<Vec<ContactImport>> {
        let caller = Caller::of(ctx)?;
        let tx = caller.tx().await?;
        let rows = recent_imports(&tx, page_size(first)?).await?;
        tx.commit().await?;
        Ok(rows.into_iter().map(|model| ContactImport { model, upload: None }).collect())
    }

    /// Entity lookups resolve inside the caller's tenant only: a foreign id is null.
    #[graphql(entity)]
    async fn find_contact_by_id(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Contact>> {
        let caller = Caller::of(ctx)?;
        let id = ContactId::parse(&id, "id")?;
        Ok(caller.loader::<ContactLoader, ContactId>().load_one(id).await?.map(Contact))
    }

    #[graphql(entity)]
    async fn find_company_by_id(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Company>> {
        let caller = Caller::of(ctx)?;
        let id = CompanyId::parse(&id, "id")?;
        Ok(caller.loader::<CompanyLoader, CompanyId>().load_one(id).await?.map(Company))
    }
}
