use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use crm_entities::global::{tenant, user};
use crm_entities::tenant::user_preference::Digest;
use crm_platform::client_address::ClientAddress;
use crm_platform::ids::UserId;
use crm_platform::text::EmailAddress;
use crm_platform::{ApiError, ApiResult, Caller, Role, Services};
use sea_orm::EntityTrait;

use super::types::{
    AcceptInvitationPayload, Invitation, Member, RegisterOrganizationPayload, Tenant, UserPreferences, owner,
};
use crate::deletion;
use crate::invitations::{self, Acceptance};
use crate::members;
use crate::preferences::{self, PreferencesChange};
use crate::registration::{self, Registration, register_organization};
use crate::settings::{self, SettingsChange};

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

#[derive(InputObject)]
pub struct InviteUserInput {
    pub email: String,
    pub role: Role,
}

#[derive(InputObject)]
pub struct AcceptInvitationInput {
    pub token: String,
    /// Needed when the address has no account yet.
    pub name: Option<String>,
    /// A new password for a new account, or the existing account's password.
    pub password: String,
}

/// Omitted fields keep their value; an explicit null timezone or locale returns to the
/// organization's.
#[derive(InputObject)]
pub struct UpdateMyPreferencesInput {
    pub email_notifications: Option<bool>,
    pub digest: Option<Digest>,
    pub timezone: MaybeUndefined<String>,
    pub locale: MaybeUndefined<String>,
}

impl UpdateMyPreferencesInput {
    async fn parse(self, services: &Services) -> ApiResult<PreferencesChange> {
        let timezone = match self.timezone {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(raw) => Some(Some(preferences::parse_timezone(&services.db, &raw).await?)),
        };
        let locale = match self.locale {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(raw) => Some(Some(settings::parse_locale(&raw)?)),
        };
        Ok(PreferencesChange {
            email_notifications: self.email_notifications,
            digest: self.digest,
            timezone,
            locale,
        })
    }
}

fn user_id(id: &ID) -> ApiResult<UserId> {
    UserId::parse(id, "userId")
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

    /// Changes the caller's own preferences (every role: they are personal, not CRM data).
    async fn update_my_preferences(
        &self,
        ctx: &Context<'_>,
        input: UpdateMyPreferencesInput,
    ) -> async_graphql::Result<UserPreferences> {
        let caller = Caller::of(ctx)?;
        let change = input.parse(Services::of(ctx)?).await?;
        Ok(preferences::update(caller.tx().await?, caller.user(), change).await?.into())
    }

    /// Invites an address to join with a role (admins and owners); the link goes out by email.
    async fn invite_user(
        &self,
        ctx: &Context<'_>,
        input: InviteUserInput,
    ) -> async_graphql::Result<Invitation> {
        let caller = Caller::of(ctx)?;
        caller.require(Role::Admin)?;
        let email = EmailAddress::parse("email", &input.email)?;
        let services = Services::of(ctx)?;
        let row = invitations::invite(
            &services.db,
            &services.config.app_base_url,
            caller.tenant(),
            (caller.user(), caller.claims.role),
            &email,
            input.role,
        )
        .await?;
        Ok(row.into())
    }

    /// Changes a member's role (admins; owners for anything touching an owner).
    async fn update_member_role(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        role: Role,
    ) -> async_graphql::Result<Member> {
        let caller = Caller::of(ctx)?;
        caller.require(Role::Admin)?;
        let services = Services::of(ctx)?;
        let target = self::user_id(&user_id)?;
        let row = members::change_role(
            &services.db,
            &services.sessions,
            caller.tenant(),
            caller.claims.role,
            target,
            role,
        )
        .await?;
        Ok(row.into())
    }

    /// Removes a member (admins; owners to remove an owner).
    async fn remove_member(&self, ctx: &Context<'_>, user_id: ID) -> async_graphql::Result<bool> {
        let caller = Caller::of(ctx)?;
        caller.require(Role::Admin)?;
        let services = Services::of(ctx)?;
        let target = self::user_id(&user_id)?;
        members::remove(&services.db, &services.sessions, caller.tenant(), Some(caller.claims.role), target)
            .await?;
        Ok(true)
    }

    /// Deletes the organization (owners; type its subdomain to confirm). It stops serving at once
    /// and is purged after the retention period.
    async fn delete_organization(
        &self,
        ctx: &Context<'_>,
        confirm_subdomain: String,
    ) -> async_graphql::Result<bool> {
        let caller = Caller::of(ctx)?;
        let services = Services::of(ctx)?;
        deletion::delete_organization(
            &services.db,
            &services.sessions,
            caller.tenant(),
            (caller.user(), caller.claims.role),
            &confirm_subdomain,
        )
        .await?;
        Ok(true)
    }

    /// Leaves the organization (the last owner cannot).
    async fn leave_organization(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        let caller = Caller::of(ctx)?;
        let services = Services::of(ctx)?;
        members::remove(&services.db, &services.sessions, caller.tenant(), None, caller.user()).await?;
        Ok(true)
    }

    /// Withdraws an open invitation (admins and owners).
    async fn revoke_invitation(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<bool> {
        let caller = Caller::of(ctx)?;
        caller.require(Role::Admin)?;
        let id = uuid::Uuid::parse_str(id.as_str()).map_err(|_| ApiError::NotFound("invitation"))?;
        invitations::revoke(&Services::of(ctx)?.db, caller.tenant(), id).await?;
        Ok(true)
    }

    /// Joins the organization of an invitation; sign in with `login` afterwards.
    async fn accept_invitation(
        &self,
        ctx: &Context<'_>,
        input: AcceptInvitationInput,
    ) -> async_graphql::Result<AcceptInvitationPayload> {
        let db = &Services::of(ctx)?.db;
        let acceptance = Acceptance { token: input.token, name: input.name, password: input.password };
        let (tenant_id, user_id) = invitations::accept(db, acceptance).await?;
        let tenant = tenant::Entity::find_by_id(tenant_id.0).one(db.conn()).await.map_err(ApiError::from)?;
        let user = user::Entity::find_by_id(user_id).one(db.conn()).await.map_err(ApiError::from)?;
        match (tenant, user) {
            (Some(tenant), Some(user)) => {
                Ok(AcceptInvitationPayload { tenant: tenant.into(), user: owner(user) })
            }
            _ => Err(ApiError::internal(anyhow::anyhow!("accepted invitation lost its rows")).into()),
        }
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
        let services = Services::of(ctx)?;
        registration::admit(&services.kv, ctx.data_opt::<ClientAddress>().copied()).await?;
        let (tenant, user) = register_organization(&services.db, &services.kv, registration).await?;
        Ok(RegisterOrganizationPayload { tenant: tenant.into(), user: owner(user) })
    }
}
