use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use crm_entities::events::identity::UserLoggedIn;
use crm_platform::events::{self, Envelope};
use crm_platform::ids::{SessionId, UserId};
use crm_platform::sign_out::SignOut;
use crm_platform::{ApiError, Caller, Role, Services, TenantId};
use uuid::Uuid;

use crate::keys::AuthKeys;
use crate::login::login;
use crate::tokens::issue_access_token;
use crate::users::MemberLoader;
use crate::{account, refresh, reset, throttle};
use crm_entities::global::member::{self, Member};
use crm_platform::client_address::ClientAddress;

/// A person, as a member of the caller's organization.
#[derive(SimpleObject)]
pub struct User {
    pub id: ID,
    #[graphql(shareable)]
    pub email: String,
    #[graphql(shareable)]
    pub name: String,
    /// The user's role in the caller's organization.
    pub role: Role,
}

impl From<Member> for User {
    fn from(row: Member) -> Self {
        Self { id: row.id.into(), email: row.email, name: row.name, role: row.role }
    }
}

#[derive(InputObject)]
pub struct LoginInput {
    pub email: String,
    pub password: String,
    /// The organization to sign in to.
    pub subdomain: String,
}

#[derive(SimpleObject)]
pub struct AuthPayload {
    pub access_token: String,
    /// Single use: `refreshToken` exchanges it for a new pair. Reusing a spent one ends the login.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    pub user: User,
}

pub struct QueryRoot;

#[Object(name = "Query")]
impl QueryRoot {
    /// The signed-in user.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        let caller = Caller::of(ctx)?;
        let member = caller.loader::<MemberLoader, Uuid>().load_one(caller.user().0).await?;
        Ok(member.map(User::from).ok_or(ApiError::Unauthenticated)?)
    }

    #[graphql(entity)]
    async fn find_user_by_id(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<User>> {
        let caller = Caller::of(ctx)?;
        let id = UserId::parse(&id, "id")?;
        let member = caller.loader::<MemberLoader, Uuid>().load_one(id.0).await?;
        Ok(member.map(User::from))
    }
}

pub struct MutationRoot;

#[Object(name = "Mutation")]
impl MutationRoot {
    /// Ends this session: its access token stops working on every subgraph at once.
    async fn logout(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        let caller = Caller::of(ctx)?;
        let services = Services::of(ctx)?;
        let this =
            SignOut::Session { tenant: caller.tenant(), user: caller.user(), session: caller.claims.sid };
        this.apply(&services.db, &services.sessions).await?;
        Ok(true)
    }

    /// Ends every session of the caller in this organization.
    async fn logout_all(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        let caller = Caller::of(ctx)?;
        let services = Services::of(ctx)?;
        let everywhere = SignOut::Member { tenant: caller.tenant(), user: caller.user() };
        everywhere.apply(&services.db, &services.sessions).await?;
        Ok(true)
    }

    /// Signs in to one organization and returns a short-lived access token and a refresh token.
    async fn login(&self, ctx: &Context<'_>, input: LoginInput) -> async_graphql::Result<AuthPayload> {
        let services = Services::of(ctx)?;
        let client = ctx.data_opt::<ClientAddress>().copied();
        throttle::count_attempt(&services.kv, &input.subdomain, &input.email, client).await?;
        let membership = login(&services.db, &input.email, input.password, &input.subdomain).await?;
        throttle::clear(&services.kv, &input.subdomain, &input.email).await?;
        let user = UserId(membership.member.id);
        let event = Envelope::new(membership.tenant, Some(user), &UserLoggedIn { user_id: user })?;
        events::enqueue(services.db.conn(), &event).await?;
        Ok(start_session(ctx, membership.member, membership.tenant, membership.role).await?)
    }

    /// Sends a reset link if the account exists. The answer is the same either way.
    async fn forgot_password(
        &self,
        ctx: &Context<'_>,
        input: ForgotPasswordInput,
    ) -> async_graphql::Result<bool> {
        let services = Services::of(ctx)?;
        throttle::count_reset_request(&services.kv, ctx.data_opt::<ClientAddress>().copied()).await?;
        // The answer must not depend on the account, in content or in time: the work (a lookup,
        // and for a real account a token and an email event) happens after it.
        let services = services.clone();
        tokio::spawn(async move {
            let (email, subdomain) = (input.email, input.subdomain);
            let outcome = match throttle::reset_email_allowed(&services.kv, &subdomain, &email).await {
                Ok(true) => {
                    reset::request(&services.db, &services.config.app_base_url, &email, &subdomain).await
                }
                Ok(false) => {
                    tracing::info!("password reset requests over the limit; no email sent");
                    Ok(())
                }
                Err(err) => Err(err),
            };
            if outcome.is_err() {
                tracing::warn!("a password reset request could not be handled");
            }
        });
        Ok(true)
    }

    /// Sets a new password with the token from a reset link; every session ends.
    async fn reset_password(
        &self,
        ctx: &Context<'_>,
        input: ResetPasswordInput,
    ) -> async_graphql::Result<bool> {
        let services = Services::of(ctx)?;
        reset::complete(&services.db, &services.sessions, &input.token, input.new_password).await?;
        Ok(true)
    }

    /// Signs in to another organization the caller belongs to, as a new session there.
    async fn switch_tenant(&self, ctx: &Context<'_>, tenant_id: ID) -> async_graphql::Result<AuthPayload> {
        let caller = Caller::of(ctx)?;
        let target = uuid::Uuid::parse_str(tenant_id.as_str())
            .map(TenantId)
            .map_err(|_| ApiError::bad_input("tenantId", "tenantId is not a valid organization id"))?;
        let services = Services::of(ctx)?;
        // Not a member looks like no such organization.
        let member = member::find(services.db.conn(), target, caller.user().0)
            .await
            .map_err(ApiError::from)?
            .ok_or(ApiError::NotFound("organization"))?;
        let role = member.role;
        Ok(start_session(ctx, member, target, role).await?)
    }

    /// Changes the caller's display name.
    async fn update_profile(
        &self,
        ctx: &Context<'_>,
        input: UpdateProfileInput,
    ) -> async_graphql::Result<User> {
        let caller = Caller::of(ctx)?;
        let services = Services::of(ctx)?;
        account::update_name(&services.db, caller.user(), &input.name).await?;
        let member = member::find(services.db.conn(), caller.tenant(), caller.user().0)
            .await
            .map_err(ApiError::from)?
            .ok_or(ApiError::Unauthenticated)?;
        Ok(member.into())
    }

    /// Changes the password; every other session of this person ends.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        input: ChangePasswordInput,
    ) -> async_graphql::Result<bool> {
        let caller = Caller::of(ctx)?;
        let services = Services::of(ctx)?;
        account::change_password(
            &services.db,
            &services.sessions,
            caller.user(),
            (caller.tenant(), caller.claims.sid),
            input.current_password,
            input.new_password,
        )
        .await?;
        Ok(true)
    }

    /// Exchanges a refresh token for a new access token and a new refresh token.
    async fn refresh_token(&self, ctx: &Context<'_>, token: String) -> async_graphql::Result<AuthPayload> {
        let services = Services::of(ctx)?;
        let rotation = refresh::rotate(&services.db, &services.sessions, &token).await?;
        let member = member::find(services.db.conn(), rotation.tenant, rotation.user.0)
            .await
            .map_err(ApiError::from)?
            .ok_or(ApiError::Unauthenticated)?;
        Ok(sign(ctx, member, rotation.tenant, rotation.role, rotation.session, rotation.refresh_token)
            .await?)
    }
}

#[derive(InputObject)]
pub struct ForgotPasswordInput {
    pub email: String,
    /// The organization whose sign-in page the reset starts from.
    pub subdomain: String,
}

#[derive(InputObject)]
pub struct ResetPasswordInput {
    pub token: String,
    pub new_password: String,
}

#[derive(InputObject)]
pub struct UpdateProfileInput {
    pub name: String,
}

#[derive(InputObject)]
pub struct ChangePasswordInput {
    pub current_password: String,
    pub new_password: String,
}

/// Opens a new session (and refresh family) for a member and signs its first tokens.
async fn start_session(
    ctx: &Context<'_>,
    member: Member,
    tenant: TenantId,
    role: Role,
) -> crm_platform::ApiResult<AuthPayload> {
    let services = Services::of(ctx)?;
    let user = UserId(member.id);
    let sid = SessionId::new();
    services.sessions.open(tenant, user, sid).await?;
    let refresh = refresh::issue(services.db.conn(), Uuid::now_v7(), sid, user, tenant).await?;
    sign(ctx, member, tenant, role, sid, refresh).await
}

/// Signs an access token for the session and assembles the payload.
async fn sign(
    ctx: &Context<'_>,
    member: Member,
    tenant: TenantId,
    role: Role,
    sid: SessionId,
    refresh_token: String,
) -> crm_platform::ApiResult<AuthPayload> {
    let services = Services::of(ctx)?;
    let keys =
        ctx.data::<Arc<AuthKeys>>().map_err(|_| ApiError::internal(anyhow::anyhow!("auth keys missing")))?;
    let keyring = keys.keyring().await?;
    let token = issue_access_token(&keyring, &services.config.jwt, UserId(member.id), tenant, role, sid)?;
    Ok(AuthPayload {
        access_token: token.token,
        refresh_token,
        token_type: "Bearer".to_owned(),
        expires_in: token.expires_in,
        user: member.into(),
    })
}
