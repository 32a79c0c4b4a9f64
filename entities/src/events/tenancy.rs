//! Events of the tenant subgraph: organizations and who belongs to them.

use crm_platform::events::DomainEvent;
use crm_platform::ids::UserId;
use crm_platform::{Role, TenantId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An organization was registered and its schema provisioned.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TenantCreated {
    pub tenant_id: TenantId,
    pub subdomain: String,
}

impl DomainEvent for TenantCreated {
    const TYPE: &'static str = "tenant.created";
}

/// A new identity was created with its first membership (the owner of a new organization).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UserCreated {
    pub user_id: UserId,
    pub role: Role,
}

impl DomainEvent for UserCreated {
    const TYPE: &'static str = "user.created";
}

/// The owner deleted the organization; it is purged after the retention period.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TenantDeleted {
    pub tenant_id: TenantId,
}

impl DomainEvent for TenantDeleted {
    const TYPE: &'static str = "tenant.deleted";
}

/// An address was invited to join with a role; the mailer sends `accept_url`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UserInvited {
    pub invitation_id: Uuid,
    pub email: String,
    pub role: Role,
    /// Single use, valid for 7 days; built from `APP_BASE_URL`.
    pub accept_url: String,
}

impl DomainEvent for UserInvited {
    const TYPE: &'static str = "tenant.user_invited";
}

/// Someone accepted an invitation, as a new identity or an existing one.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UserJoined {
    pub user_id: UserId,
    pub role: Role,
}

impl DomainEvent for UserJoined {
    const TYPE: &'static str = "tenant.user_joined";
}
