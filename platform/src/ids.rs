//! Typed ids: a `UserId` cannot be passed where a `SessionId` is expected. All ids are UUIDv7, so
//! their order is creation order and serves as a stable pagination key. The platform declares the
//! ids of identity and events; the CRM's record ids are declared with the same macro in
//! `crm_entities::ids`.

use async_graphql::ID;
use uuid::Uuid;

use crate::error::ApiError;

/// Declares a UUID newtype with GraphQL `ID` conversions.
#[macro_export]
macro_rules! typed_id {
    ($(#[$meta:meta])* $name:ident, $label:literal) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub uuid::Uuid);

        impl $name {
            pub fn new() -> Self {
                Self(uuid::Uuid::now_v7())
            }

            /// Parses a client-supplied id; `field` names the argument in the error.
            pub fn parse(id: &async_graphql::ID, field: &'static str) -> Result<Self, $crate::ApiError> {
                $crate::ids::parse_uuid(id, field, $label).map(Self)
            }

            pub fn into_uuid(self) -> uuid::Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<uuid::Uuid> for $name {
            fn from(id: uuid::Uuid) -> Self {
                Self(id)
            }
        }
    };
}

pub fn parse_uuid(id: &ID, field: &'static str, label: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id.as_str())
        .map_err(|_| ApiError::bad_input(field, format!("{field} is not a valid {label} id")))
}

typed_id!(
    /// A person's identity, shared by all their memberships.
    UserId,
    "user"
);
typed_id!(
    /// One login session; tokens name it so it can be revoked.
    SessionId,
    "session"
);
typed_id!(EventId, "event");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_ids_are_bad_input_naming_the_field() {
        let err = UserId::parse(&ID("nope".into()), "userId").expect_err("not a uuid");
        assert_eq!(err.code(), "BAD_USER_INPUT");
        assert!(err.message().contains("user"));
    }

    #[test]
    fn ids_round_trip_through_graphql() {
        let id = SessionId::new();
        let gql: ID = id.into();
        assert_eq!(SessionId::parse(&gql, "id").expect("valid"), id);
    }
}
