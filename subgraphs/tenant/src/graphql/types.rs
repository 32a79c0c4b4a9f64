//! The tenant subgraph's GraphQL output types.

use async_graphql::{ID, SimpleObject};
use chrono::{DateTime, Utc};
use crm_entities::global::tenant::{self, Plan};
use crm_entities::global::user;
use crm_entities::tenant::user_preference::{self, Digest};
use crm_platform::Role;

use crm_entities::global::invitation;
use crm_entities::global::member;

/// An organization: one tenant of the CRM.
#[derive(SimpleObject)]
pub struct Tenant {
    pub id: ID,
    pub name: String,
    pub subdomain: String,
    pub plan: Plan,
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

/// An organization the caller belongs to, with the caller's role in it.
#[derive(SimpleObject)]
pub struct MyOrganization {
    pub tenant: Tenant,
    pub role: crm_platform::Role,
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

impl From<invitation::Model> for Invitation {
    fn from(row: invitation::Model) -> Self {
        Self {
            id: row.id.into(),
            email: row.email,
            role: row.role,
            created_at: row.created_at,
            expires_at: row.expires_at,
        }
    }
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

impl From<member::Member> for Member {
    fn from(row: member::Member) -> Self {
        Self {
            role: row.role,
            joined_at: row.joined_at,
            user: User { id: row.id.into(), email: row.email, name: row.name },
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
            digest: m.digest,
            timezone: m.timezone,
            locale: m.locale,
            updated_at: m.updated_at,
        }
    }
}

pub fn owner(user: user::Model) -> User {
    User { id: user.id.into(), email: user.email, name: user.name }
}
