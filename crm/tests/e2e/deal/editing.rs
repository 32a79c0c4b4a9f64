//! Deals edited field by field, closed, reopened and moved on the board: partial updates with
//! previous values in `deal.updated`, custom fields checked against the DEAL definitions, stage
//! history as data, board order under concurrent moves, contacts with roles, and the trash.

use crm_testkit::{Org, TestStack, outbox_events};
use serde_json::{Value, json};

const CREATE: &str = "mutation($i: CreateDealInput!) { createDeal(input: $i) { id } }";
const UPDATE: &str = "mutation($id: ID!, $i: UpdateDealInput!) { updateDeal(id: $id, input: $i) {
    title amount currency expectedCloseDate probability hasOwnProbability owner { id } customFields version } }";
const READ: &str = "query($id: ID!) { deal(id: $id) {
    status lostReason closedAt position probability deletedAt stage { id name kind }
    contacts { contact { id } role }
    stageHistory { fromStage { name } fromStageName toStage { name } toStageName changedBy { id } secondsInPreviousStage } } }";
const MOVE: &str = "mutation($id: ID!, $s: ID!, $b: ID) { moveDeal(id: $id, stageId: $s, beforeId: $b) { id position stage { id } } }";
const CLOSE: &str = "mutation($id: ID!, $o: DealOutcome!, $r: String) { closeDeal(id: $id, outcome: $o, lostReason: $r) { status } }";
const REOPEN: &str = "mutation($id: ID!) { reopenDeal(id: $id) { status } }";

async fn stages(stack: &TestStack, org: &Org) -> Vec<Value> {
    let response = stack
        .subgraph("deal", Some(&org.token), "{ pipelines { stages { id name kind } } }", json!({}))
        .await;
    response.ok()["pipelines"][0]["stages"].as_array().expect("stages").clone()
}

fn stage_named<'a>(stages: &'a [Value], name: &str) -> &'a str {
    stages.iter().find(|s| s["name"] == name).and_then(|s| s["id"].as_str()).expect("stage")
}

async fn read(stack: &TestStack, org: &Org, id: &str) -> Value {
    stack.subgraph("deal", Some(&org.token), READ, json!({ "id": id })).await.ok()["deal"].clone()
}

/// The deal versions carried by the organization's events of one type, in order.
async fn versions(stack: &TestStack, org: &Org, event: &str) -> Vec<i64> {
    let events = outbox_events(stack, &org.tenant_id, event).await;
    events.iter().map(|e| e["data"]["version"].as_i64().expect("version")).collect()
}

async fn codes_and_field(
    stack: &TestStack,
    token: &str,
    query: &str,
    variables: Value,
) -> (Vec<String>, Value) {
    let response = stack.subgraph("deal", Some(token), query, variables).await;
    (response.error_codes(), response.body["errors"][0]["extensions"]["field"].clone())
}

#[tokio::test]
async fn deals_are_edited_partially_and_updates_carry_previous_values() {
    let stack = TestStack::subgraphs().await;
    let org = stack.register_org("Deal edits").await;
    let settings = "mutation { updateTenantSettings(input: { currency: \"EUR\" }) { currency } }";
    stack.subgraph("tenant", Some(&org.token), settings, json!({})).await.ok();
    let field = "mutation($i: CreateCustomFieldInput!) { createCustomField(input: $i) { id } }";
    let budget = json!({ "object": "DEAL", "key": "budget", "label": "Budget", "type": "NUMBER" });
    stack.create("contact", &org.token, field, budget).await;

    let bad = json!({ "i": { "title": "Big", "customFields": { "budget": "lots" } } });
    assert_eq!(codes_and_field(&stack, &org.token, CREATE, bad).await.1, "customFields.budget");
    let unknown = json!({ "i": { "title": "Big", "customFields": { "colour": "red" } } });
    assert_eq!(codes_and_field(&stack, &org.token, CREATE, unknown).await.1, "customFields.colour");
    let deal = stack
        .create("deal", &org.token, CREATE, json!({ "title": "Big", "customFields": { "budget": 1200 } }))
        .await;
    let created = stack.subgraph("deal", Some(&org.token), UPDATE, json!({ "id": deal, "i": {} })).await;
    let created = created.ok()["updateDeal"].clone();
    assert_eq!(created["currency"], "EUR", "the organization's currency when none is given");
    assert_eq!(
        (created["probability"].clone(), created["hasOwnProbability"].clone()),
        (json!(10), json!(false))
    );
    assert_eq!(created["version"], 1, "an update that changes nothing is no change");

    let change = json!({ "id": deal, "i": { "amount": "5000", "expectedCloseDate": "2027-03-31", "probability": 35,
        "ownerId": org.user_id, "customFields": { "budget": 1500 } } });
    let updated = stack.subgraph("deal", Some(&org.token), UPDATE, change).await;
    let updated = updated.ok()["updateDeal"].clone();
    assert_eq!(updated["title"], "Big", "absent fields are kept");
    assert_eq!((updated["probability"].clone(), updated["version"].clone()), (json!(35), json!(2)));
    assert_eq!(updated["owner"]["id"], org.user_id.as_str());
    let events = outbox_events(&stack, &org.tenant_id, "deal.updated").await;
    assert_eq!(events.len(), 1);
    let changes = &events[0]["data"]["changes"];
    assert_eq!(events[0]["data"]["version"], 2);
    assert_eq!(changes["probability"], json!({ "previous": null, "new": 35 }));
    assert_eq!(changes["expected_close_date"], json!({ "previous": null, "new": "2027-03-31" }));
    assert_eq!(changes["custom_fields.budget"], json!({ "previous": 1200, "new": 1500 }));
    assert_eq!(changes["owner_id"]["new"], org.user_id.as_str());

    let back = json!({ "id": deal, "i": { "probability": null, "expectedCloseDate": null } });
    let back = stack.subgraph("deal", Some(&org.token), UPDATE, back).await;
    assert_eq!(back.ok()["updateDeal"]["probability"], 10, "null: the stage's default again");
    assert_eq!(back.ok()["updateDeal"]["expectedCloseDate"], json!(null));

    let stranger = uuid::Uuid::now_v7().to_string();
    for (input, field) in [
        (json!({ "ownerId": stranger }), "ownerId"),
        (json!({ "title": null }), "title"),
        (json!({ "title": "  " }), "title"),
        (json!({ "amount": "-1" }), "amount"),
        (json!({ "probability": 101 }), "probability"),
        (json!({ "currency": "euro" }), "currency"),
        (json!({ "companyId": uuid::Uuid::now_v7().to_string() }), "companyId"),
    ] {
        let refused = codes_and_field(&stack, &org.token, UPDATE, json!({ "id": deal, "i": input })).await;
        assert_eq!(refused, (vec!["BAD_USER_INPUT".to_owned()], json!(field)), "{input}");
    }
    assert_eq!(
        outbox_events(&stack, &org.tenant_id, "deal.updated").await.len(),
        2,
        "refused updates write nothing"
    );
}

#[tokio::test]
async fn deals_close_and_reopen_and_their_stage_history_is_data() {
    let stack = TestStack::subgraphs().await;
    let org = stack.register_org("Deal lifecycle").await;
    let stages = stages(&stack, &org).await;
    let deal = stack.create("deal", &org.token, CREATE, json!({ "title": "Cycle" })).await;
    stack
        .subgraph(
            "deal",
            Some(&org.token),
            MOVE,
            json!({ "id": deal, "s": stage_named(&stages, "Qualified") }),
        )
        .await
        .ok();
    let won_with_reason = json!({ "id": deal, "o": "WON", "r": "price" });
    assert_eq!(codes_and_field(&stack, &org.token, CLOSE, won_with_reason).await.1, "lostReason");
    let lost = stack
        .subgraph("deal", Some(&org.token), CLOSE, json!({ "id": deal, "o": "LOST", "r": "No budget" }))
        .await;
    assert_eq!(lost.ok()["closeDeal"]["status"], "LOST");
    let now = read(&stack, &org, &deal).await;
    assert_eq!(
        (now["stage"]["kind"].clone(), now["lostReason"].clone()),
        (json!("LOST"), json!("No budget"))
    );
    assert!(now["closedAt"].is_string());

    let reopened = stack.subgraph("deal", Some(&org.token), REOPEN, json!({ "id": deal })).await;
    assert_eq!(reopened.ok()["reopenDeal"]["status"], "OPEN");
    let now = read(&stack, &org, &deal).await;
    assert_eq!(now["stage"]["name"], "Qualified", "back into the last open stage it was in");
    assert_eq!((now["lostReason"].clone(), now["closedAt"].clone()), (json!(null), json!(null)));

    // Moving into a WON stage closes it too.
    stack
        .subgraph(
            "deal",
            Some(&org.token),
            MOVE,
            json!({ "id": deal, "s": stage_named(&stages, "Closed Won") }),
        )
        .await
        .ok();
    assert_eq!(read(&stack, &org, &deal).await["status"], "WON");

    let history: Vec<(Value, Value)> = read(&stack, &org, &deal).await["stageHistory"]
        .as_array()
        .expect("history")
        .iter()
        .map(|change| (change["fromStageName"].clone(), change["toStageName"].clone()))
        .collect();
    let pairs = [
        (json!(null), json!("Lead")),
        (json!("Lead"), json!("Qualified")),
        (json!("Qualified"), json!("Closed Lost")),
        (json!("Closed Lost"), json!("Qualified")),
        (json!("Qualified"), json!("Closed Won")),
    ];
    assert_eq!(history, pairs);
    let full = read(&stack, &org, &deal).await;
    let first = &full["stageHistory"][0];
    assert_eq!(
        (first["fromStage"].clone(), first["secondsInPreviousStage"].clone()),
        (json!(null), json!(null))
    );
    assert_eq!(first["changedBy"]["id"], org.user_id.as_str());
    assert!(full["stageHistory"][1]["secondsInPreviousStage"].as_i64().is_some_and(|s| s >= 0));

    assert_eq!(versions(&stack, &org, "deal.closed_lost").await, [3]);
    assert_eq!(versions(&stack, &org, "deal.reopened").await, [4]);
    assert_eq!(versions(&stack, &org, "deal.closed_won").await, [5]);
    assert_eq!(versions(&stack, &org, "deal.stage_changed").await, [2, 3, 4, 5]);
}

#[tokio::test]
async fn board_order_holds_under_concurrent_moves_and_placements() {
    let stack = TestStack::subgraphs().await;
    let org = stack.register_org("Deal board").await;
    let stages = stages(&stack, &org).await;
    let target = stage_named(&stages, "Proposal").to_owned();
    let mut deals = Vec::new();
    for n in 0..20 {
        deals.push(stack.create("deal", &org.token, CREATE, json!({ "title": format!("Card {n}") })).await);
    }
    // Twenty moves into one stage at once: twenty different places, none lost.
    let moves = deals
        .iter()
        .map(|deal| stack.subgraph("deal", Some(&org.token), MOVE, json!({ "id": deal, "s": target })));
    let moved = futures::future::join_all(moves).await;
    let mut positions: Vec<f64> = moved
        .iter()
        .map(|response| response.ok()["moveDeal"]["position"].as_f64().expect("position"))
        .collect();
    positions.sort_by(f64::total_cmp);
    positions.dedup();
    assert_eq!(positions.len(), 20, "no two deals share a place on the board");

    // A card placed before another lands right before it, again and again in the same gap.
    let board = async || {
        let mut cards = Vec::new();
        for deal in &deals {
            let now = read(&stack, &org, deal).await;
            cards.push((now["position"].as_f64().expect("position"), deal.clone()));
        }
        cards.sort_by(|a, b| a.0.total_cmp(&b.0));
        cards.into_iter().map(|(_, deal)| deal).collect::<Vec<_>>()
    };
    let order = board().await;
    let (first, second) = (order[0].clone(), order[1].clone());
    for round in 0..60 {
        // Alternately the last card and the one after it go right before the second card,
        // halving the same gap each time until the stage is renumbered.
        let mover = if round % 2 == 0 { order[19].clone() } else { order[18].clone() };
        let placed = stack
            .subgraph("deal", Some(&org.token), MOVE, json!({ "id": mover, "s": target, "b": second }))
            .await;
        placed.ok();
    }
    let after = board().await;
    assert_eq!(after.len(), 20);
    let index = |deal: &str| after.iter().position(|d| d == deal).expect("on the board");
    assert_eq!(index(&first), 0);
    assert_eq!(index(&second), 3, "the two movers sit between the first and the second card");
    assert_eq!(index(&order[18]), 2, "the last one placed sits right before the second card");
    let foreign = json!({ "id": first, "s": target, "b": uuid::Uuid::now_v7().to_string() });
    assert_eq!(codes_and_field(&stack, &org.token, MOVE, foreign).await.1, "beforeId");
}

#[tokio::test]
async fn contacts_take_roles_the_trash_hides_deals_and_other_organizations_touch_nothing() {
    let stack = TestStack::subgraphs().await;
    let org = stack.register_org("Deal people").await;
    let other = stack.register_org("Deal strangers").await;
    let deal = stack.create("deal", &org.token, CREATE, json!({ "title": "People" })).await;
    let ann = stack.create_contact(&org, "Ann", None).await;
    let foreign_contact = stack.create_contact(&other, "Zed", None).await;
    let add = "mutation($d: ID!, $c: ID!, $r: String) { addDealContact(dealId: $d, contactId: $c, role: $r) { contacts { contact { id } role } } }";
    let added =
        stack.subgraph("deal", Some(&org.token), add, json!({ "d": deal, "c": ann, "r": "Champion" })).await;
    assert_eq!(
        added.ok()["addDealContact"]["contacts"],
        json!([{ "contact": { "id": ann }, "role": "Champion" }])
    );
    let changed = stack
        .subgraph("deal", Some(&org.token), add, json!({ "d": deal, "c": ann, "r": "Decision maker" }))
        .await;
    assert_eq!(changed.ok()["addDealContact"]["contacts"][0]["role"], "Decision maker");
    let events = outbox_events(&stack, &org.tenant_id, "deal.updated").await;
    assert_eq!(
        events[1]["data"]["changes"]["contacts"],
        json!({ "previous": { "contact_id": ann, "role": "Champion" }, "new": { "contact_id": ann, "role": "Decision maker" } })
    );
    let refused = codes_and_field(&stack, &org.token, add, json!({ "d": deal, "c": foreign_contact })).await;
    assert_eq!(refused.1, "contactId", "another organization's contact is not found here");
    let remove =
        "mutation($d: ID!, $c: ID!) { removeDealContact(dealId: $d, contactId: $c) { contacts { role } } }";
    let removed = stack.subgraph("deal", Some(&org.token), remove, json!({ "d": deal, "c": ann })).await;
    assert_eq!(removed.ok()["removeDealContact"]["contacts"], json!([]));

    // Another organization reaches none of these writes.
    for (query, variables) in [
        (UPDATE, json!({ "id": deal, "i": { "title": "Mine" } })),
        (CLOSE, json!({ "id": deal, "o": "WON" })),
        (REOPEN, json!({ "id": deal })),
        ("mutation($id: ID!) { deleteDeal(id: $id) { id } }", json!({ "id": deal })),
        ("mutation($id: ID!) { restoreDeal(id: $id) { id } }", json!({ "id": deal })),
        (add, json!({ "d": deal, "c": foreign_contact })),
        (remove, json!({ "d": deal, "c": ann })),
    ] {
        assert_eq!(codes_and_field(&stack, &other.token, query, variables).await.0, ["NOT_FOUND"], "{query}");
    }

    // The trash: off lists and a contact's deals, out of reach of moves, back on restore.
    stack.subgraph("deal", Some(&org.token), add, json!({ "d": deal, "c": ann })).await.ok();
    let delete = "mutation($id: ID!) { deleteDeal(id: $id) { deletedAt } }";
    let deleted = stack.subgraph("deal", Some(&org.token), delete, json!({ "id": deal })).await;
    assert!(deleted.ok()["deleteDeal"]["deletedAt"].is_string());
    let listed =
        stack.subgraph("deal", Some(&org.token), "{ deals { edges { node { id } } } }", json!({})).await;
    assert_eq!(listed.ok()["deals"]["edges"], json!([]));
    let of_ann = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Contact { deals { id } } } }";
    let reps = json!({ "r": [{ "__typename": "Contact", "id": ann }] });
    let hidden = stack.subgraph("deal", Some(&org.token), of_ann, reps.clone()).await;
    assert_eq!(hidden.ok()["_entities"], json!([{ "deals": [] }]));
    let stage = stages(&stack, &org).await[1]["id"].clone();
    assert_eq!(
        codes_and_field(&stack, &org.token, MOVE, json!({ "id": deal, "s": stage })).await.0,
        ["NOT_FOUND"]
    );
    let restore = "mutation($id: ID!) { restoreDeal(id: $id) { deletedAt version } }";
    let restored = stack.subgraph("deal", Some(&org.token), restore, json!({ "id": deal })).await;
    assert_eq!(restored.ok()["restoreDeal"]["deletedAt"], json!(null));
    let shown = stack.subgraph("deal", Some(&org.token), of_ann, reps).await;
    assert_eq!(shown.ok()["_entities"], json!([{ "deals": [{ "id": deal }] }]));
    let trash_events = outbox_events(&stack, &org.tenant_id, "deal.deleted").await.len()
        + outbox_events(&stack, &org.tenant_id, "deal.restored").await.len();
    assert_eq!(trash_events, 2);
}
