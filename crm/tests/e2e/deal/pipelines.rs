//! Pipelines and stages managed by admins: several pipelines in the tenant's order, one default,
//! stages added, changed, reordered and deleted with their deals moved, and every pipeline
//! keeping an OPEN, a WON and a LOST stage.

use crm_testkit::{Org, TestStack, outbox_events};
use serde_json::{Value, json};

const PIPELINES: &str =
    "{ pipelines { id name isDefault position stages { id name kind probability position rottenDays } } }";
const CREATE: &str = "mutation($i: CreatePipelineInput!) { createPipeline(input: $i) { id name stages { id name kind position } } }";
const UPDATE: &str = "mutation($id: ID!, $i: UpdatePipelineInput!) { updatePipeline(id: $id, input: $i) { id isDefault position } }";
const DELETE: &str = "mutation($id: ID!, $to: ID) { deletePipeline(id: $id, moveDealsTo: $to) }";
const CREATE_STAGE: &str = "mutation($p: ID!, $i: CreateStageInput!) {
    createStage(pipelineId: $p, input: $i) { id position probability kind } }";
const UPDATE_STAGE: &str = "mutation($id: ID!, $i: UpdateStageInput!) { updateStage(id: $id, input: $i) { id name kind probability rottenDays } }";
const REORDER: &str =
    "mutation($p: ID!, $ids: [ID!]!) { reorderStages(pipelineId: $p, stageIds: $ids) { stages { id } } }";
const DELETE_STAGE: &str =
    "mutation($id: ID!, $to: ID) { deleteStage(id: $id, moveDealsTo: $to) { stages { id } } }";
const DEAL: &str = "query($id: ID!) { deal(id: $id) { pipeline { id } stage { id name kind } } }";

async fn pipelines(stack: &TestStack, org: &Org) -> Vec<Value> {
    let response = stack.subgraph("deal", Some(&org.token), PIPELINES, json!({})).await;
    response.ok()["pipelines"].as_array().expect("pipelines").clone()
}

/// The error codes and the field of the first error of a refused call.
async fn refused(stack: &TestStack, token: &str, query: &str, variables: Value) -> (Vec<String>, Value) {
    let response = stack.subgraph("deal", Some(token), query, variables).await;
    (response.error_codes(), response.body["errors"][0]["extensions"]["field"].clone())
}

fn ids(stages: &Value) -> Vec<String> {
    stages.as_array().expect("stages").iter().map(|s| s["id"].as_str().expect("id").to_owned()).collect()
}

async fn deal_in(stack: &TestStack, org: &Org, stage: &str) -> String {
    const CREATE_DEAL: &str = "mutation($i: CreateDealInput!) { createDeal(input: $i) { id } }";
    stack
        .create("deal", &org.token, CREATE_DEAL, json!({ "title": "d", "currency": "EUR", "stageId": stage }))
        .await
}

#[tokio::test]
async fn pipelines_and_stages_are_managed_and_keep_an_open_a_won_and_a_lost_stage() {
    let stack = TestStack::subgraphs().await;
    let org = stack.register_org("Pipelines").await;
    let sales = pipelines(&stack, &org).await[0].clone();
    assert_eq!((sales["isDefault"].clone(), sales["position"].clone()), (json!(true), json!(1)));

    // A new pipeline: the default stages unless told; a set of stages lacking a kind is refused.
    let renewals =
        stack.subgraph("deal", Some(&org.token), CREATE, json!({ "i": { "name": "Renewals" } })).await;
    let renewals = renewals.ok()["createPipeline"].clone();
    assert_eq!(renewals["stages"].as_array().expect("stages").len(), 6);
    let renewals_id = renewals["id"].as_str().expect("id").to_owned();
    let no_lost = json!({ "i": { "name": "Odd", "stages": [
        { "name": "Talk", "kind": "OPEN" }, { "name": "Signed", "kind": "WON" }] } });
    assert_eq!(
        refused(&stack, &org.token, CREATE, no_lost).await,
        (vec!["BAD_USER_INPUT".to_owned()], json!("stages"))
    );
    let twice = json!({ "i": { "name": "renewals" } });
    assert_eq!(refused(&stack, &org.token, CREATE, twice).await.0, ["CONFLICT"]);

    // Order and default.
    let moved = json!({ "id": renewals_id, "i": { "position": 1, "isDefault": true } });
    stack.subgraph("deal", Some(&org.token), UPDATE, moved).await.ok();
    let listed = pipelines(&stack, &org).await;
    let summary: Vec<(Value, Value, Value)> =
        listed.iter().map(|p| (p["name"].clone(), p["isDefault"].clone(), p["position"].clone())).collect();
    assert_eq!(
        summary,
        [(json!("Renewals"), json!(true), json!(1)), (json!("Sales"), json!(false), json!(2))],
        "one default, in the order asked for"
    );
    let undefault = json!({ "id": renewals_id, "i": { "isDefault": false } });
    assert_eq!(refused(&stack, &org.token, UPDATE, undefault).await.1, "isDefault");

    // Stages: a new OPEN stage goes after the last OPEN one, with the OPEN default probability.
    let added = stack
        .subgraph(
            "deal",
            Some(&org.token),
            CREATE_STAGE,
            json!({ "p": renewals_id, "i": { "name": "Demo", "kind": "OPEN" } }),
        )
        .await;
    assert_eq!(added.ok()["createStage"]["position"], 5);
    assert_eq!(added.ok()["createStage"]["probability"], 50);
    let demo = added.ok()["createStage"]["id"].as_str().expect("id").to_owned();
    let stages = pipelines(&stack, &org).await[0]["stages"].clone();
    let positions: Vec<Value> =
        stages.as_array().expect("stages").iter().map(|s| s["position"].clone()).collect();
    assert_eq!(positions, (1..=7).map(|n| json!(n)).collect::<Vec<_>>());
    let won =
        stages.as_array().expect("stages").iter().find(|s| s["kind"] == "WON").expect("won")["id"].clone();
    let lost =
        stages.as_array().expect("stages").iter().find(|s| s["kind"] == "LOST").expect("lost")["id"].clone();

    let rotten = json!({ "id": demo, "i": { "rottenDays": 14, "name": "Live demo" } });
    let changed = stack.subgraph("deal", Some(&org.token), UPDATE_STAGE, rotten).await;
    assert_eq!(changed.ok()["updateStage"]["rottenDays"], 14);
    let cleared = stack
        .subgraph("deal", Some(&org.token), UPDATE_STAGE, json!({ "id": demo, "i": { "rottenDays": null } }))
        .await;
    assert_eq!(cleared.ok()["updateStage"]["rottenDays"], json!(null));
    assert_eq!(changed.ok()["updateStage"]["name"], "Live demo");
    for (input, field) in [
        (json!({ "id": won, "i": { "kind": "OPEN" } }), "kind"),
        (json!({ "id": demo, "i": { "probability": 101 } }), "probability"),
        (json!({ "id": demo, "i": { "rottenDays": 0 } }), "rottenDays"),
    ] {
        assert_eq!(refused(&stack, &org.token, UPDATE_STAGE, input).await.1, field);
    }

    // Reordering names every stage once.
    let mut order = ids(&stages);
    order.reverse();
    let partial = json!({ "p": renewals_id, "ids": order[1..] });
    assert_eq!(refused(&stack, &org.token, REORDER, partial).await.1, "stageIds");
    let reordered =
        stack.subgraph("deal", Some(&org.token), REORDER, json!({ "p": renewals_id, "ids": order })).await;
    assert_eq!(ids(&reordered.ok()["reorderStages"]["stages"]), order);

    // A stage holding a deal is deleted only with somewhere for it to go, in the same pipeline.
    let deal = deal_in(&stack, &org, &demo).await;
    assert_eq!(refused(&stack, &org.token, DELETE_STAGE, json!({ "id": demo })).await.1, "moveDealsTo");
    let sales_stage = sales["stages"][0]["id"].clone();
    let elsewhere = json!({ "id": demo, "to": sales_stage });
    assert_eq!(refused(&stack, &org.token, DELETE_STAGE, elsewhere).await.1, "moveDealsTo");
    stack.subgraph("deal", Some(&org.token), DELETE_STAGE, json!({ "id": demo, "to": won })).await.ok();
    let now = stack.subgraph("deal", Some(&org.token), DEAL, json!({ "id": deal })).await;
    assert_eq!(now.ok()["deal"]["stage"]["id"], won);
    let history = stack
        .count_in(
            &org,
            "SELECT count(*) FROM deal_stage_changes WHERE deal_id = $1 AND from_stage_name = 'Live demo'",
            vec![uuid::Uuid::parse_str(&deal).expect("uuid").into()],
        )
        .await;
    assert_eq!(history, 1, "history keeps the deleted stage's name");
    let won_events = outbox_events(&stack, &org.tenant_id, "deal.closed_won").await;
    assert!(won_events.iter().any(|e| e["data"]["deal_id"] == deal.as_str() && e["data"]["version"] == 2));
    assert_eq!(
        refused(&stack, &org.token, DELETE_STAGE, json!({ "id": lost })).await.1,
        "id",
        "the only LOST stage stays"
    );

    // A pipeline holding deals is deleted only with another pipeline to take them; each deal
    // lands in the first stage there of its own kind.
    let sales_id = sales["id"].as_str().expect("id").to_owned();
    let open_deal = deal_in(&stack, &org, sales_stage.as_str().expect("id")).await;
    let sales_won =
        sales["stages"].as_array().expect("stages").iter().find(|s| s["kind"] == "WON").expect("won")["id"]
            .clone();
    let won_deal = deal_in(&stack, &org, sales_won.as_str().expect("id")).await;
    assert_eq!(refused(&stack, &org.token, DELETE, json!({ "id": sales_id })).await.1, "moveDealsTo");
    assert_eq!(
        refused(&stack, &org.token, DELETE, json!({ "id": sales_id, "to": sales_id })).await.1,
        "moveDealsTo"
    );
    stack.subgraph("deal", Some(&org.token), DELETE, json!({ "id": sales_id, "to": renewals_id })).await.ok();
    let first_open = pipelines(&stack, &org).await[0]["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .find(|s| s["kind"] == "OPEN")
        .expect("open")["id"]
        .clone();
    for (deal, stage) in [(&open_deal, &first_open), (&won_deal, &won)] {
        let now = stack.subgraph("deal", Some(&org.token), DEAL, json!({ "id": deal })).await;
        assert_eq!(now.ok()["deal"]["pipeline"]["id"], renewals_id.as_str());
        assert_eq!(&now.ok()["deal"]["stage"]["id"], stage);
    }
    assert_eq!(pipelines(&stack, &org).await.len(), 1);
    assert_eq!(
        refused(&stack, &org.token, DELETE, json!({ "id": renewals_id })).await.1,
        "id",
        "the last pipeline stays"
    );
    let announced = outbox_events(&stack, &org.tenant_id, "pipeline.updated").await;
    assert!(
        announced
            .iter()
            .any(|e| e["data"]["pipeline_id"] == sales_id.as_str() && e["data"]["deleted"] == true)
    );
}

#[tokio::test]
async fn pipelines_are_managed_by_admins_of_their_own_organization_only() {
    let stack = TestStack::subgraphs().await;
    let team = stack.team("Pipeline roles").await;
    let other = stack.register_org("Pipeline outsiders").await;
    let create = json!({ "i": { "name": "Partners" } });
    for role in ["MEMBER", "VIEWER"] {
        assert_eq!(
            refused(&stack, team.token(role), CREATE, create.clone()).await.0,
            ["FORBIDDEN"],
            "{role}"
        );
    }
    let made = stack.subgraph("deal", Some(team.token("ADMIN")), CREATE, create).await;
    let pipeline = made.ok()["createPipeline"]["id"].as_str().expect("id").to_owned();
    let stage = made.ok()["createPipeline"]["stages"][0]["id"].as_str().expect("id").to_owned();

    // Another organization's admin reaches none of it.
    let token = other.token.as_str();
    let rename = json!({ "id": pipeline, "i": { "name": "Mine" } });
    assert_eq!(refused(&stack, token, UPDATE, rename).await.0, ["NOT_FOUND"]);
    assert_eq!(refused(&stack, token, DELETE, json!({ "id": pipeline })).await.0, ["NOT_FOUND"]);
    let add = json!({ "p": pipeline, "i": { "name": "x", "kind": "OPEN" } });
    assert_eq!(refused(&stack, token, CREATE_STAGE, add).await.1, "pipelineId");
    assert_eq!(
        refused(&stack, token, UPDATE_STAGE, json!({ "id": stage, "i": { "name": "x" } })).await.0,
        ["NOT_FOUND"]
    );
    assert_eq!(refused(&stack, token, DELETE_STAGE, json!({ "id": stage })).await.0, ["NOT_FOUND"]);
    let own = pipelines(&stack, &other).await[0]["id"].as_str().expect("id").to_owned();
    let own_deal =
        deal_in(&stack, &other, pipelines(&stack, &other).await[0]["stages"][0]["id"].as_str().expect("id"))
            .await;
    assert!(!own_deal.is_empty());
    let second = stack.subgraph("deal", Some(token), CREATE, json!({ "i": { "name": "Second" } })).await;
    second.ok();
    let into_foreign = json!({ "id": own, "to": pipeline });
    assert_eq!(
        refused(&stack, token, DELETE, into_foreign).await.1,
        "moveDealsTo",
        "deals never move into another organization"
    );
    let names: Vec<Value> = pipelines(&stack, &team.owner).await.iter().map(|p| p["name"].clone()).collect();
    assert_eq!(names, [json!("Sales"), json!("Partners")]);
}
