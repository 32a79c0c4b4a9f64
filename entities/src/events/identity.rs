//! Events of the auth subgraph: sign-ins and password resets.

use crm_platform::events::DomainEvent;
use crm_platform::ids::UserId;
use serde::{Deserialize, Serialize};

/// A member signed in to an organization.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UserLoggedIn {
    pub user_id: UserId,
}

impl DomainEvent for UserLoggedIn {
    const TYPE: &'static str = "user.login";
}

/// Someone asked for a password reset of an existing account; the mailer sends `reset_url`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PasswordResetRequested {
    pub user_id: UserId,
    pub email: String,
    /// Single use, valid for 30 minutes; built from `APP_BASE_URL`.
    pub reset_url: String,
}

impl DomainEvent for PasswordResetRequested {
    const TYPE: &'static str = "user.password_reset_requested";
}

/// A reset link was used: the password changed and every session ended.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PasswordReset {
    pub user_id: UserId,
}

impl DomainEvent for PasswordReset {
    const TYPE: &'static str = "user.password_reset";
}
