use async_graphql::{Context, ID, Json, Object};
use chrono::{DateTime, Utc};
use crm_entities::ids::CompanyId;
use crm_entities::tenant::{company, contact};
use crm_platform::Caller;

use crate::companies::CompanyLoader;

/// A person the organization deals with.
pub struct Contact(pub contact::Model);

#[Object]
impl Contact {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    async fn first_name(&self) -> &str {
        &self.0.first_name
    }
    async fn last_name(&self) -> &str {
        &self.0.last_name
    }
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }
    /// Tenant-defined fields as a JSON object.
    async fn custom_fields(&self) -> Json<serde_json::Value> {
        Json(self.0.custom_fields.clone())
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    async fn company(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Company>> {
        let Some(company_id) = self.0.company_id else {
            return Ok(None);
        };
        let caller = Caller::of(ctx)?;
        let company = caller.loader::<CompanyLoader, CompanyId>().load_one(CompanyId(company_id)).await?;
        Ok(company.map(Company))
    }
}

/// An organization the tenant's contacts work for.
pub struct Company(pub company::Model);

#[Object]
impl Company {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn domain(&self) -> Option<&str> {
        self.0.domain.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

crm_platform::connection!(ContactConnection, ContactEdge, Contact);
crm_platform::connection!(CompanyConnection, CompanyEdge, Company);
