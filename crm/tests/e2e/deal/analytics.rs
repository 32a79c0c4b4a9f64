//! `dealAnalytics` against figures computed by hand from a fixture: deals moved forward and
//! backwards, lost and reopened, won, and one deleted, with their history's times set to known
//! days.

use crm_testkit::{Org, TestStack};
use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};
use serde_json::{Value, json};

const CREATE: &str = "mutation($i: CreateDealInput!) { createDeal(input: $i) { id } }";
const MOVE: &str = "mutation($id: ID!, $s: ID!) { moveDeal(id: $id, stageId: $s) { id } }";
const ANALYTICS: &str =
    "query($p: ID, $from: Date, $to: Date, $o: ID) { dealAnalytics(pipelineId: $p, from: $from, to: $to, ownerId: $o) {
    byStage { stage { name } count amounts { currency amount weightedAmount } }
    forecast { month count amounts { currency amount weightedAmount } }
    winRate { won lost byCount byAmount { currency wonAmount closedAmount rate } }
    salesCycle { deals averageDays medianDays }
    stageConversion { stage { name } entered advanced rate }
    timeInStage { stage { name } exits averageSeconds medianSeconds }
    perOwner { owner { id } open won lost winRate wonAmounts { currency amount } } } }";

const DAY: f64 = 86_400.0;

/// Sets the times of a deal's stage history, in order (the first is its creation), and the
/// deal's own times to match. A time is `MM-DD` (midnight UTC) or `MM-DDTHH:MM:SS`.
async fn set_times(stack: &TestStack, org: &Org, deal: &str, days: &[&str]) {
    let schema = org.schema();
    let at =
        |day: &str| if day.contains('T') { format!("2027-{day}Z") } else { format!("2027-{day}T00:00:00Z") };
    let times: Vec<chrono::DateTime<chrono::Utc>> =
        days.iter().map(|day| at(day).parse().expect("time")).collect();
    let id = uuid::Uuid::parse_str(deal).expect("uuid");
    let history = format!(
        "WITH r AS (SELECT id, row_number() OVER (ORDER BY changed_at, id) AS n FROM {schema}.deal_stage_changes WHERE deal_id = $1),
              t AS (SELECT at, n FROM unnest($2::timestamptz[]) WITH ORDINALITY AS t(at, n))
         UPDATE {schema}.deal_stage_changes h SET changed_at = t.at,
                from_entered_at = (SELECT p.at FROM t p WHERE p.n = r.n - 1)
         FROM r JOIN t ON t.n = r.n WHERE h.id = r.id"
    );
    let own = format!(
        "UPDATE {schema}.deals SET created_at = $2[1], stage_entered_at = $2[cardinality($2)],
                closed_at = CASE WHEN status <> 'open' THEN $2[cardinality($2)] END WHERE id = $1"
    );
    // In the tenant's scope, as every write is: the roll-up triggers follow the new times.
    let tx = stack.db.conn().begin().await.expect("begin");
    let scope = format!("SELECT set_config('search_path', '{schema}', true)");
    tx.execute_unprepared(&scope).await.expect("scope");
    for sql in [history, own] {
        let statement =
            Statement::from_sql_and_values(DbBackend::Postgres, sql, [id.into(), times.clone().into()]);
        tx.execute(statement).await.expect("set times");
    }
    tx.commit().await.expect("commit");
}

fn by_stage(analytics: &Value, section: &str) -> Vec<(String, Value)> {
    analytics[section]
        .as_array()
        .expect("section")
        .iter()
        .map(|row| {
            let mut row = row.clone();
            let name = row["stage"]["name"].as_str().expect("name").to_owned();
            row.as_object_mut().expect("object").remove("stage");
            (name, row)
        })
        .collect()
}

fn close(value: &Value, expected: f64) -> bool {
    value.as_f64().is_some_and(|v| (v - expected).abs() < 1e-6)
}

#[tokio::test]
async fn analytics_match_figures_computed_by_hand() {
    let stack = TestStack::subgraphs().await;
    let org = stack.register_org("Deal analytics").await;
    let other = stack.register_org("Deal analytics elsewhere").await;
    let stages =
        stack.subgraph("deal", Some(&org.token), "{ pipelines { stages { id name } } }", json!({})).await;
    let stages = stages.ok()["pipelines"][0]["stages"].clone();
    let stage = |name: &str| {
        stages.as_array().expect("stages").iter().find(|s| s["name"] == name).expect("stage")["id"].clone()
    };
    let go = async |deal: &str, name: &str| {
        stack.subgraph("deal", Some(&org.token), MOVE, json!({ "id": deal, "s": stage(name) })).await.ok();
    };
    let close_as = async |deal: &str, outcome: &str| {
        let close = "mutation($id: ID!, $o: DealOutcome!) { closeDeal(id: $id, outcome: $o) { id } }";
        stack.subgraph("deal", Some(&org.token), close, json!({ "id": deal, "o": outcome })).await.ok();
    };

    // A: won after Lead → Qualified → Proposal, owned by the owner.
    let a = stack
        .create(
            "deal",
            &org.token,
            CREATE,
            json!({ "title": "A", "amount": "1000", "currency": "EUR", "ownerId": org.user_id }),
        )
        .await;
    for name in ["Qualified", "Proposal", "Closed Won"] {
        go(&a, name).await;
    }
    set_times(&stack, &org, &a, &["01-01", "01-05", "01-10", "01-20"]).await;
    // B: forward, back, forward, lost, reopened; open in Qualified, expected to close in February.
    let b = stack
        .create(
            "deal",
            &org.token,
            CREATE,
            json!({ "title": "B", "amount": "500", "currency": "EUR", "expectedCloseDate": "2027-02-15" }),
        )
        .await;
    for name in ["Qualified", "Lead", "Qualified"] {
        go(&b, name).await;
    }
    close_as(&b, "LOST").await;
    stack
        .subgraph(
            "deal",
            Some(&org.token),
            "mutation($id: ID!) { reopenDeal(id: $id) { id } }",
            json!({ "id": b }),
        )
        .await
        .ok();
    set_times(&stack, &org, &b, &["01-02", "01-04", "01-06", "01-08", "01-12", "01-14"]).await;
    // C: lost straight from Lead, owned by the owner.
    let c = stack
        .create(
            "deal",
            &org.token,
            CREATE,
            json!({ "title": "C", "amount": "2000", "currency": "USD", "ownerId": org.user_id }),
        )
        .await;
    close_as(&c, "LOST").await;
    set_times(&stack, &org, &c, &["01-03", "01-09"]).await;
    // D: in the trash: it counts nowhere.
    let d = stack
        .create("deal", &org.token, CREATE, json!({ "title": "D", "amount": "300", "currency": "EUR" }))
        .await;
    go(&d, "Qualified").await;
    set_times(&stack, &org, &d, &["01-03", "01-04"]).await;
    stack
        .subgraph(
            "deal",
            Some(&org.token),
            "mutation($id: ID!) { deleteDeal(id: $id) { id } }",
            json!({ "id": d }),
        )
        .await
        .ok();
    // E: open in Lead with its own probability, expected to close in March.
    let e = json!({ "title": "E", "amount": "800", "currency": "USD", "probability": 40, "expectedCloseDate": "2027-03-10" });
    let e = stack.create("deal", &org.token, CREATE, e).await;
    set_times(&stack, &org, &e, &["01-03"]).await;

    let all = stack.subgraph("deal", Some(&org.token), ANALYTICS, json!({})).await;
    let all = all.ok()["dealAnalytics"].clone();

    let money = |currency: &str, amount: &str, weighted: &str| json!({ "currency": currency, "amount": amount, "weightedAmount": weighted });
    let expected_stages = vec![
        ("Lead".to_owned(), json!({ "count": 1, "amounts": [money("USD", "800.00", "320.00")] })),
        ("Qualified".to_owned(), json!({ "count": 1, "amounts": [money("EUR", "500.00", "125.00")] })),
        ("Proposal".to_owned(), json!({ "count": 0, "amounts": [] })),
        ("Negotiation".to_owned(), json!({ "count": 0, "amounts": [] })),
        ("Closed Won".to_owned(), json!({ "count": 1, "amounts": [money("EUR", "1000.00", "1000.00")] })),
        ("Closed Lost".to_owned(), json!({ "count": 1, "amounts": [money("USD", "2000.00", "0.00")] })),
    ];
    assert_eq!(by_stage(&all, "byStage"), expected_stages);
    assert_eq!(
        all["forecast"],
        json!([
            { "month": "2027-02", "count": 1, "amounts": [money("EUR", "500.00", "125.00")] },
            { "month": "2027-03", "count": 1, "amounts": [money("USD", "800.00", "320.00")] },
        ])
    );
    let win = &all["winRate"];
    assert_eq!(
        (win["won"].clone(), win["lost"].clone()),
        (json!(1), json!(1)),
        "B was lost but is open again"
    );
    assert!(close(&win["byCount"], 0.5));
    let by_amount = win["byAmount"].as_array().expect("by amount");
    assert_eq!(by_amount.len(), 2, "one rate per currency: {by_amount:?}");
    assert_eq!(
        (by_amount[0]["currency"].clone(), by_amount[0]["wonAmount"].clone()),
        (json!("EUR"), json!("1000.00"))
    );
    assert!(close(&by_amount[0]["rate"], 1.0));
    assert_eq!(
        (by_amount[1]["currency"].clone(), by_amount[1]["closedAmount"].clone()),
        (json!("USD"), json!("2000.00"))
    );
    assert!(close(&by_amount[1]["rate"], 0.0));
    let cycle = &all["salesCycle"];
    assert_eq!(cycle["deals"], 1);
    assert!(close(&cycle["averageDays"], 19.0) && close(&cycle["medianDays"], 19.0), "{cycle}");

    // Lead: A, B, C and E entered; A and B went on (C was lost, which is not going on).
    let conversion: Vec<(String, Value)> = by_stage(&all, "stageConversion")
        .into_iter()
        .map(|(name, row)| (name, json!([row["entered"], row["advanced"]])))
        .collect();
    let expected_conversion = [
        ("Lead", [4, 2]),
        ("Qualified", [2, 1]),
        ("Proposal", [1, 1]),
        ("Negotiation", [0, 0]),
        ("Closed Won", [1, 0]),
        ("Closed Lost", [2, 0]),
    ];
    assert_eq!(conversion, expected_conversion.map(|(n, v)| (n.to_owned(), json!(v))));
    let lead_rate = &all["stageConversion"][0]["rate"];
    assert!(close(lead_rate, 0.5));
    assert_eq!(all["stageConversion"][3]["rate"], json!(null), "no deal entered Negotiation");

    // Exits: Lead 4, 2, 2, 6 days; Qualified 5, 2, 4; Proposal 10; Closed Lost 2 (B reopened).
    let dwell: Vec<(String, Value)> = by_stage(&all, "timeInStage");
    let expect_dwell = |name: &str, exits: i64, average: f64, median: f64| {
        let row = &dwell.iter().find(|(n, _)| n == name).expect("stage").1;
        assert_eq!(row["exits"], exits, "{name}");
        if exits > 0 {
            assert!(close(&row["averageSeconds"], average * DAY), "{name}: {row}");
            assert!(close(&row["medianSeconds"], median * DAY), "{name}: {row}");
        } else {
            assert_eq!(row["averageSeconds"], json!(null));
        }
    };
    expect_dwell("Lead", 4, 3.5, 3.0);
    expect_dwell("Qualified", 3, 11.0 / 3.0, 4.0);
    expect_dwell("Proposal", 1, 10.0, 10.0);
    expect_dwell("Negotiation", 0, 0.0, 0.0);
    expect_dwell("Closed Lost", 1, 2.0, 2.0);

    let owners = all["perOwner"].as_array().expect("owners");
    assert_eq!(owners.len(), 2);
    let owned = owners.iter().find(|o| o["owner"]["id"] == org.user_id.as_str()).expect("the owner");
    assert_eq!(
        owned,
        &json!({ "owner": { "id": org.user_id }, "open": 0, "won": 1, "lost": 1, "winRate": 0.5,
                 "wonAmounts": [{ "currency": "EUR", "amount": "1000.00" }] })
    );
    let nobody = owners.iter().find(|o| o["owner"].is_null()).expect("no owner");
    assert_eq!(
        nobody,
        &json!({ "owner": null, "open": 2, "won": 0, "lost": 0, "winRate": null, "wonAmounts": [] })
    );

    // A period: only what happened from 10 to 15 January.
    let period = stack
        .subgraph("deal", Some(&org.token), ANALYTICS, json!({ "from": "2027-01-10", "to": "2027-01-15" }))
        .await;
    let period = period.ok()["dealAnalytics"].clone();
    assert_eq!((period["winRate"]["won"].clone(), period["winRate"]["lost"].clone()), (json!(0), json!(0)));
    assert_eq!(period["winRate"]["byCount"], json!(null));
    assert!(
        by_stage(&period, "byStage").iter().all(|(_, row)| row["count"] == 0),
        "no deal was created then"
    );
    let dwell = by_stage(&period, "timeInStage");
    let qualified = &dwell.iter().find(|(n, _)| n == "Qualified").expect("stage").1;
    assert_eq!(qualified["exits"], 2, "A left Qualified on the 10th, B on the 12th");
    assert!(close(&qualified["averageSeconds"], 4.5 * DAY));
    let backwards = stack
        .subgraph("deal", Some(&org.token), ANALYTICS, json!({ "from": "2027-02-01", "to": "2027-01-01" }))
        .await;
    assert_eq!(backwards.body["errors"][0]["extensions"]["field"], "to");

    // Another organization sees its own (empty) figures and cannot name this pipeline.
    let pipeline = stack.subgraph("deal", Some(&org.token), "{ pipelines { id } }", json!({})).await;
    let pipeline = pipeline.ok()["pipelines"][0]["id"].clone();
    let elsewhere = stack.subgraph("deal", Some(&other.token), ANALYTICS, json!({})).await;
    let elsewhere = elsewhere.ok()["dealAnalytics"].clone();
    assert!(by_stage(&elsewhere, "byStage").iter().all(|(_, row)| row["count"] == 0));
    assert_eq!(elsewhere["perOwner"], json!([]));
    let foreign = stack.subgraph("deal", Some(&other.token), ANALYTICS, json!({ "p": pipeline })).await;
    assert_eq!(foreign.body["errors"][0]["extensions"]["field"], "pipelineId");
}

/// The analytics read roll-ups that every write keeps up to date; they must always equal the
/// roll-ups rebuilt from scratch, through owner changes, trash and restore, history rewrites,
/// and stage reorders.
async fn assert_rollups_rebuild_the_same(stack: &TestStack, org: &Org, owner: &Value) {
    let read = async |variables: Value| {
        stack.subgraph("deal", Some(&org.token), ANALYTICS, variables).await.ok()["dealAnalytics"].clone()
    };
    let kept = (read(json!({})).await, read(json!({ "o": owner })).await);
    let rebuild = format!(
        "BEGIN; SELECT set_config('search_path', '{}', true); SELECT deal_rollups_rebuild(); COMMIT;",
        org.schema()
    );
    stack.db.conn().execute_unprepared(&rebuild).await.expect("rebuild");
    let rebuilt = (read(json!({})).await, read(json!({ "o": owner })).await);
    assert_eq!(kept, rebuilt);
}

#[tokio::test]
async fn analytics_follow_owners_trash_reorders_and_medians_inside_a_bucket() {
    let stack = TestStack::subgraphs().await;
    let org = stack.register_org("Deal analytics kept").await;
    let pipeline =
        stack.subgraph("deal", Some(&org.token), "{ pipelines { id stages { id name } } }", json!({})).await;
    let pipeline = pipeline.ok()["pipelines"][0].clone();
    let stage = |name: &str| {
        let stages = pipeline["stages"].as_array().expect("stages");
        stages.iter().find(|s| s["name"] == name).expect("stage")["id"].clone()
    };
    let go = async |deal: &str, name: &str| {
        stack.subgraph("deal", Some(&org.token), MOVE, json!({ "id": deal, "s": stage(name) })).await.ok();
    };
    let create = async |title: &str| {
        stack
            .create("deal", &org.token, CREATE, json!({ "title": title, "amount": "100", "currency": "EUR" }))
            .await
    };

    // Three deals leave Lead after 10 days, 10 days 1.2 h and 10 days 2.4 h: durations within
    // one bucket, so the median is read from the stage changes themselves.
    let mut deals = Vec::new();
    for (title, left) in [("F", "01-11T00:00:00"), ("G", "01-11T01:12:00"), ("H", "01-11T02:24:00")] {
        let deal = create(title).await;
        go(&deal, "Qualified").await;
        go(&deal, "Proposal").await;
        set_times(&stack, &org, &deal, &["01-01", left, "01-20"]).await;
        deals.push(deal);
    }
    let read = async |variables: Value| {
        stack.subgraph("deal", Some(&org.token), ANALYTICS, variables).await.ok()["dealAnalytics"].clone()
    };
    let lead = |analytics: &Value| analytics["timeInStage"][0].clone();
    let all = read(json!({})).await;
    assert_eq!(lead(&all)["exits"], 3);
    assert!(close(&lead(&all)["medianSeconds"], 10.05 * DAY), "{}", lead(&all));
    assert!(close(&lead(&all)["averageSeconds"], 10.05 * DAY), "{}", lead(&all));
    assert_rollups_rebuild_the_same(&stack, &org, &json!(org.user_id)).await;

    // G changes hands: its history follows it to the new owner.
    let update = "mutation($id: ID!, $o: ID) { updateDeal(id: $id, input: { ownerId: $o }) { id } }";
    stack.subgraph("deal", Some(&org.token), update, json!({ "id": deals[1], "o": org.user_id })).await.ok();
    let owned = read(json!({ "o": org.user_id })).await;
    assert_eq!(lead(&owned)["exits"], 1);
    assert!(close(&lead(&owned)["medianSeconds"], (10.0 + 1.2 / 24.0) * DAY), "{}", lead(&owned));
    assert_eq!(owned["stageConversion"][0]["entered"], 1);
    assert_eq!(owned["byStage"][2]["count"], 1, "G is in Proposal");
    assert_rollups_rebuild_the_same(&stack, &org, &json!(org.user_id)).await;

    // F in the trash counts nowhere; restored, it counts again.
    let trash = "mutation($id: ID!) { deleteDeal(id: $id) { id } }";
    stack.subgraph("deal", Some(&org.token), trash, json!({ "id": deals[0] })).await.ok();
    let trashed = read(json!({})).await;
    assert_eq!(lead(&trashed)["exits"], 2);
    assert!(close(&lead(&trashed)["medianSeconds"], (10.0 + 1.8 / 24.0) * DAY), "{}", lead(&trashed));
    assert_eq!(trashed["stageConversion"][0]["entered"], 2);
    assert_rollups_rebuild_the_same(&stack, &org, &json!(org.user_id)).await;
    let restore = "mutation($id: ID!) { restoreDeal(id: $id) { id } }";
    stack.subgraph("deal", Some(&org.token), restore, json!({ "id": deals[0] })).await.ok();
    let restored = read(json!({})).await;
    for section in ["byStage", "forecast", "winRate", "salesCycle", "stageConversion", "timeInStage"] {
        assert_eq!(restored[section], all[section], "{section} as before the trash");
    }

    // Proposal before Qualified: deals that went Lead → Qualified → Proposal went on from Lead
    // and from Qualified (now after Proposal) no more; nobody went on from Proposal either.
    let order: Vec<Value> = ["Lead", "Proposal", "Qualified", "Negotiation", "Closed Won", "Closed Lost"]
        .into_iter()
        .map(stage)
        .collect();
    let reorder = "mutation($p: ID!, $s: [ID!]!) { reorderStages(pipelineId: $p, stageIds: $s) { id } }";
    stack.subgraph("deal", Some(&org.token), reorder, json!({ "p": pipeline["id"], "s": order })).await.ok();
    let reordered = read(json!({})).await;
    let conversion: Vec<(String, Value)> = by_stage(&reordered, "stageConversion")
        .into_iter()
        .map(|(name, row)| (name, json!([row["entered"], row["advanced"]])))
        .collect();
    let expected = [("Lead", [3, 3]), ("Proposal", [3, 0]), ("Qualified", [3, 0])];
    assert_eq!(conversion[..3], expected.map(|(n, v)| (n.to_owned(), json!(v))));
    assert_rollups_rebuild_the_same(&stack, &org, &json!(org.user_id)).await;
}
