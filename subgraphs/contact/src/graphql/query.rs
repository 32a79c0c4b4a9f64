use async_graphql::{Context, ID, Object};
use crm_entities::ids::{CompanyId, ContactId};
use crm_platform::pagination::PageRequest;
use crm_platform::{ApiError, Caller};

use super::types::{Company, CompanyConnection, Contact, ContactConnection};
use crate::companies::{CompanyLoader, list_companies};
use crate::contacts::{ContactLoader, list_contacts};

pub struct QueryRoot;

#[Object(name = "Query")]
impl QueryRoot {
    /// One contact; NOT_FOUND when it does not exist in the caller's organization.
    async fn contact(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Contact>> {
        let caller = Caller::of(ctx)?;
        let id = ContactId::parse(&id, "id")?;
        let found = caller.loader::<ContactLoader, ContactId>().load_one(id).await?;
        Ok(Some(found.map(Contact).ok_or(ApiError::NotFound("contact"))?))
    }

    /// Contacts, newest first.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn contacts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 1 to 100 (default 20).")] first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<ContactConnection> {
        let caller = Caller::of(ctx)?;
        let page = PageRequest::parse(first, after.as_deref())?;
        let tx = caller.tx().await?;
        let (rows, has_next) = list_contacts(&tx, &page).await?;
        tx.commit().await?;
        Ok(ContactConnection::new(rows.into_iter().map(|row| (row.id, Contact(row))).collect(), has_next))
    }

    /// One company; NOT_FOUND when it does not exist in the caller's organization.
    async fn company(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Company>> {
        let caller = Caller::of(ctx)?;
        let id = CompanyId::parse(&id, "id")?;
        let found = caller.loader::<CompanyLoader, CompanyId>().load_one(id).await?;
        Ok(Some(found.map(Company).ok_or(ApiError::NotFound("company"))?))
    }

    /// Companies, newest first.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn companies(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<CompanyConnection> {
        let caller = Caller::of(ctx)?;
        let page = PageRequest::parse(first, after.as_deref())?;
        let tx = caller.tx().await?;
        let (rows, has_next) = list_companies(&tx, &page).await?;
        tx.commit().await?;
        Ok(CompanyConnection::new(rows.into_iter().map(|row| (row.id, Company(row))).collect(), has_next))
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
