//! Typed ids of CRM records: a `ContactId` cannot be passed where a `DealId` is expected. The ids
//! of identity and tenancy (`UserId`, `TenantId`, `SessionId`, `EventId`) are the platform's.

use crm_platform::typed_id;

typed_id!(ContactId, "contact");
typed_id!(CompanyId, "company");
typed_id!(DealId, "deal");
typed_id!(PipelineId, "pipeline");
typed_id!(StageId, "stage");
typed_id!(ActivityId, "activity");

#[cfg(test)]
mod tests {
    use async_graphql::ID;

    use super::*;

    #[test]
    fn malformed_ids_are_bad_input_naming_the_field() {
        let err = ContactId::parse(&ID("nope".into()), "id").expect_err("not a uuid");
        assert_eq!(err.code(), "BAD_USER_INPUT");
        assert!(err.message().contains("contact"));
    }

    #[test]
    fn ids_round_trip_through_graphql() {
        let id = DealId::new();
        let gql: ID = id.into();
        assert_eq!(DealId::parse(&gql, "id").expect("valid"), id);
    }
}
