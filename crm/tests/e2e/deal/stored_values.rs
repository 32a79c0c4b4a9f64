//! Closed sets stored in columns (stage kind, activity type) are read as Rust enums: a value the
//! code does not know — written by a newer version, or by hand — is an internal error with an
//! `errorId`, never silently read as some default, and its text never reaches the client.

use crm_testkit::TestStack;
use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::CRM;

#[tokio::test]
async fn an_unknown_stored_value_is_an_internal_error_never_a_default() {
    let stack = TestStack::with_router(CRM).await;
    let org = stack.register_org("Stored values").await;
    let world = stack.deal_world(&org, "Stored").await;
    let schema = format!("tenant_{}", org.tenant_id.replace('-', ""));
    let query = "query($d: ID!) { deal(id: $d) { stage { kind } activities { type } } }";
    let read = || stack.router(Some(&org.token), query, json!({ "d": world.deal }));

    let fine = read().await;
    assert_eq!(fine.ok()["deal"]["stage"]["kind"], "OPEN");

    // What a later version might store; the checks that normally refuse it are lifted.
    stack
        .db
        .conn()
        .execute_unprepared(&format!(
            "ALTER TABLE {schema}.activities DROP CONSTRAINT activities_kind_check;
             UPDATE {schema}.activities SET kind = 'carrier_pigeon' WHERE id = '{}'",
            world.activities[0]
        ))
        .await
        .expect("store an unknown activity type");
    let response = read().await;
    assert_eq!(response.error_codes(), ["INTERNAL"], "{}", response.body);
    let error = &response.body["errors"][0];
    assert!(error["extensions"]["errorId"].is_string(), "{error}");
    assert!(!response.body.to_string().contains("carrier_pigeon"), "{}", response.body);

    stack
        .db
        .conn()
        .execute_unprepared(&format!(
            "ALTER TABLE {schema}.pipeline_stages DROP CONSTRAINT pipeline_stages_kind_check;
             UPDATE {schema}.pipeline_stages SET kind = 'maybe'
              WHERE id = (SELECT stage_id FROM {schema}.deals WHERE id = '{}')",
            world.deal
        ))
        .await
        .expect("store an unknown stage kind");
    let response = read().await;
    assert!(response.error_codes().contains(&"INTERNAL".to_owned()), "{}", response.body);
    assert!(response.body["data"]["deal"].is_null(), "no deal with a made-up stage kind: {}", response.body);
    assert!(!response.body.to_string().contains("maybe"), "{}", response.body);
}
