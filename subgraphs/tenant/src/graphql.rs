use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use chrono::{DateTime, Utc};
use crm_entities::global::{tenant, user};
use crm_entities::tenant::user_preference;
use crm_platform::client_address::ClientAddress;
use crm_platform::ids::UserId;
use crm_platform::text::EmailAddress;
use crm_platform::{ApiError, ApiResult, Caller, Role, Services};
use sea_orm::EntityTrait;

use crate::deletion;
use crate::invitations::{self, Acceptance, InvitationRow};
use crate::members::{self, MemberRow};
use crate::preferences::{self, PreferencesChange};
use crate::registration::{self, Registration, register_organization};
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

/// An open invitation to join the organization.
#[derive(SimpleObject)]
pub struct Invitation {
    pub id: ID,
    pub email: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl From<InvitationRow> for Invitation {
    fn from(row: InvitationRow) -> Self {
        Self {
            id: row.id.into(),
            email: row.email,
            role: Role::parse(&row.role).unwrap_or(Role::Viewer),
            created_at: row.created_at,
            expires_at: row.expires_at,
        }
    }
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

#[derive(SimpleObject)]
pub struct AcceptInvitationPayload {
    pub tenant: Tenant,
    pub user: User,
}

/// A person's membership in the organization.
#[derive(SimpleObject)]
pub struct Member {
    pub user: User,
    pub role: Role,
    pub joined_at: DateTime<Utc>,
}

impl From<MemberRow> for Member {
    fn from(row: MemberRow) -> Self {
        Self {
            role: Role::parse(&row.role).unwrap_or(Role::Viewer),
            joined_at: row.joined_at,
            user: User { id: row.id.into(), email: row.email, name: row.name },
        }
    }
}

/// How often the activity digest email goes out.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum Digest {
    Daily,
    Weekly,
    Never,
}

impl Digest {
    fn as_str(self) -> &'static str {
        match self {
            Digest::Daily => "daily",
            Digest::Weekly => "weekly",
            Digest::Never => "never",
        }
    }

    fn from_stored(raw: &str) -> Self {
        match raw {
            "daily" => Digest::Daily,
            "never" => Digest::Never,
            _ => Digest::Weekly,
        }
    }
}

/// The caller's own preferences in the current organization.
#[derive(SimpleObject)]
pub struct UserPreferences {
    pub email_notifications: bool,
    pub digest: Digest,
    /// IANA time zone; null follows the organization's.
    pub timezone: Option<String>,
    /// BCP 47 tag; null follows the organization's.
    pub locale: Option<String>,
    pub updated_at: DateTime<Utc>,
}

impl From<user_preference::Model> for UserPreferences {
    fn from(m: user_preference::Model) -> Self {
        Self {
            email_notifications: m.email_notifications,
            digest: Digest::from_stored(&m.digest),
            timezone: m.timezone,
            locale: m.locale,
            updated_at: m.updated_at,
        }
    }
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
            digest: self.digest.map(Digest::as_str),
            timezone,
            locale,
        })
    }
}

fn user_id(id: &ID) -> ApiResult<UserId> {
    UserId::parse(id, "userId")
}

pub struct QueryRoot;

#[Object(name = "Query")]
impl QueryRoot {
    /// The organization the caller's token belongs to.
    async fn current_tenant(&self, ctx: &Context<'_>) -> async_graphql::Result<Tenant> {
        let caller = Caller::of(ctx)?;
        Ok(find_tenant(ctx, caller).await?.ok_or(ApiError::NotFound("tenant"))?)
    }

    /// Everyone in the organization, oldest member first.
    async fn tenant_users(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Member>> {
        let caller = Caller::of(ctx)?;
        let rows = members::list(&Services::of(ctx)?.db, caller.tenant()).await?;
        Ok(rows.into_iter().map(Member::from).collect())
    }

    /// The caller's own preferences in this organization (every role).
    async fn my_preferences(&self, ctx: &Context<'_>) -> async_graphql::Result<UserPreferences> {
        let caller = Caller::of(ctx)?;
        let tx = caller.tx().await?;
        let found = preferences::mine(&tx, caller.user()).await?;
        tx.commit().await?;
        Ok(found.into())
    }

    /// Open invitations (admins and owners).
    async fn invitations(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Invitation>> {
        let caller = Caller::of(ctx)?;
        caller.require(Role::Admin)?;
        let rows = invitations::list_open(&Services::of(ctx)?.db, caller.tenant()).await?;
        Ok(rows.into_iter().map(Invitation::from).collect())
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

fn owner(user: user::Model) -> User {
    User { id: user.id.into(), email: user.email, name: user.name }
}
