//! Closed sets kept in text columns (roles, stage kinds, activity types…), declared once as Rust
//! enums that are at the same time the GraphQL enum, the serde form (lowercase, as in events)
//! and the column type. Reading a value the enum does not know fails the query — an internal
//! error with an `errorId` at the API — instead of turning into some default.

/// Declares a stored enum; the stored and serialized form of `DealWon` is `dealwon`.
///
/// ```ignore
/// crm_platform::stored_enum! {
///     /// Whether a deal in a stage is still open, or closed as won or lost.
///     pub enum StageKind { Open, Won, Lost }
/// }
/// ```
#[macro_export]
macro_rules! stored_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash,
            sea_orm::EnumIter, sea_orm::DeriveActiveEnum, async_graphql::Enum,
            serde::Serialize, serde::Deserialize,
        )]
        #[sea_orm(rs_type = "String", db_type = "Text", rename_all = "lowercase")]
        #[serde(rename_all = "lowercase")]
        $vis enum $name { $($variant),+ }
    };
}

#[cfg(test)]
mod tests {
    use sea_orm::ActiveEnum;

    use crate::Role;

    #[test]
    fn stored_values_are_lowercase_and_unknown_ones_do_not_load() {
        assert_eq!(Role::Owner.to_value(), "owner");
        assert_eq!(Role::try_from_value(&"viewer".to_owned()).expect("known"), Role::Viewer);
        assert!(Role::try_from_value(&"superuser".to_owned()).is_err());
        assert!(Role::try_from_value(&"Owner".to_owned()).is_err(), "no case folding");
        assert_eq!(serde_json::to_value(Role::Admin).expect("json"), "admin");
    }
}
