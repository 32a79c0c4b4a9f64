//! Organizations: provisioning, the tenant scope, isolation, settings, members and roles,
//! invitations, preferences and deletion.

mod deletion;
mod invitations;
mod isolation;
mod members;
mod preferences;
mod provisioning;
mod roles;
mod schemas;
mod settings;
