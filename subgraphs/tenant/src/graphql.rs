use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use crm_entities::global::{tenant, user};
use crm_platform::{ApiError, ApiResult, Caller, Role, Services};

use crate::registration::{Registration, register_organization};
use crate::settings::{self, SettingsChange};

/// An organization: one tenant of the CRM.
#[derive(SimpleObject)]
pub struct Tenant {
    pub id: ID,
    pub name: String,
    pub subdomain: String,
    pub plan: String,
    pub created_at: DateTime<Utc>,
    /// IANA time zone, e.g. `Europe/Paris`.
    pub timezone: String,
    /// ISO 4217 code of the default currency.
    pub currency: String,
    /// BCP 47 language tag, e.g. `en-US`.
    pub locale: String,
    /// Month (1–12) the fiscal year starts in.
    pub fiscal_year_start_month: i32,
}

impl From<tenant::Model> for Tenant {
    fn from(m: tenant::Model) -> Self {
        Self {
            id: m.id.into(),
            name: m.name,
            subdomain: m.subdomain,
            plan: m.plan,
            created_at: m.created_at,
            timezone: m.timezone,
            currency: m.currency,
            locale: m.locale,
            fiscal_year_start_month: i32::from(m.fiscal_year_start_month),
        }
    }
}

#[derive(InputObject)]
pub struct UpdateTenantSettingsInput {
    pub name: Option<String>,
    pub timezone: Option<String>,
    pub currency: Option<String>,
    pub locale: Option<String>,
    pub fiscal_year_start_month: Option<i32>,
}

impl UpdateTenantSettingsInput {
    fn parse(self) -> ApiResult<SettingsChange> {
        Ok(SettingsChange {
            name: self.name.as_deref().map(settings::parse_name).transpose()?,
            timezone: self.timezone.map(|t| t.trim().to_owned()),
            currency: self.currency.as_deref().map(settings::parse_currency).transpose()?,
            locale: self.locale.as_deref().map(settings::parse_locale).transpose()?,
            fiscal_year_start_month: self.fiscal_year_start_month.map(settings::parse_month).transpose()?,
        })
    }
}

/// The auth subgraph owns users; registration returns the new owner's public fields directly.
#[derive(SimpleObject)]
#[graphql(unresolvable = "id")]
pub struct User {
    pub id: ID,
    #[graphql(shareable)]
    pub email: String,
    #[graphql(shareable)]
    pub name: String,
}

#[derive(InputObject)]
pub struct OwnerInput {
    pub email: String,
    pub password: String,
    pub name: String,
}

#[derive(InputObject)]
pub struct RegisterOrganizationInput {
    pub name: String,
    pub subdomain: String,
    pub owner: OwnerInput,
}

#[derive(SimpleObject)]
pub struct RegisterOrganizationPayload {
    pub tenant: Tenant,
    pub user: User,
}

pub struct QueryRoot;

#[Object(name = "Query")]
impl QueryRoot {
    /// The organization the caller's token belongs to.
    async fn current_tenant(&self, ctx: &Context<'_>) -> async_graphql::Result<Tenant> {
        let caller = Caller::of(ctx)?;
        Ok(find_tenant(ctx, caller).await?.ok_or(ApiError::NotFound("tenant"))?)
    }

    /// Entity lookups resolve only the caller's own organization.
    #[graphql(entity)]
    async fn find_tenant_by_id(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Tenant>> {
        let caller = Caller::of(ctx)?;
        if id.as_str() != caller.tenant().to_string() {
            return Ok(None);
        }
        Ok(find_tenant(ctx, caller).await?)
    }
}

async fn find_tenant(ctx: &Context<'_>, caller: &Caller) -> ApiResult<Option<Tenant>> {
    let services = Services::of(ctx)?;
    let found = settings::load(&services.db, &services.kv, caller.tenant()).await?;
    Ok(found.map(Tenant::from))
}

pub struct MutationRoot;

#[Object(name = "Mutation")]
impl MutationRoot {
    /// Changes the organization's name and settings (admins and owners).
    async fn update_tenant_settings(
        &self,
        ctx: &Context<'_>,
        input: UpdateTenantSettingsInput,
    ) -> async_graphql::Result<Tenant> {
        let caller = Caller::of(ctx)?;
        caller.require(Role::Admin)?;
        let change = input.parse()?;
        let services = Services::of(ctx)?;
        Ok(settings::update(&services.db, &services.kv, caller.tenant(), change).await?.into())
    }

    /// Creates an organization with its owner; sign in with `login` afterwards.
    async fn register_organization(
        &self,
        ctx: &Context<'_>,
        input: RegisterOrganizationInput,
    ) -> async_graphql::Result<RegisterOrganizationPayload> {
        let registration = Registration::parse(
            &input.name,
            &input.subdomain,
            &input.owner.email,
            &input.owner.name,
            input.owner.password,
        )?;
        let (tenant, user) = register_organization(&Services::of(ctx)?.db, registration).await?;
        Ok(RegisterOrganizationPayload { tenant: tenant.into(), user: owner(user) })
    }
}

fn owner(user: user::Model) -> User {
    User { id: user.id.into(), email: user.email, name: user.name }
}
