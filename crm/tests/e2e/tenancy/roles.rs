//! The role matrix through the router: viewer reads only; member also writes CRM data; admin also
//! manages settings; owner everything. One shared guard decides, on every subgraph.

use crm_testkit::{TestStack, mint_role_token};
use serde_json::{Value, json};

use crate::CRM;

#[tokio::test]
async fn role_matrix_through_the_router() {
    let stack = TestStack::with_router(CRM).await;
    let org = stack.register_org("Roles").await;
    let seed = stack
        .router(Some(&org.token), "mutation { createDeal(input: { title: \"seed\", currency: \"USD\" }) { id pipeline { id stages { id } } } }", json!({}))
        .await;
    let seed = seed.ok()["createDeal"].clone();
    let deal = seed["id"].as_str().expect("deal").to_owned();
    let stage = seed["pipeline"]["stages"][1]["id"].as_str().expect("stage").to_owned();
    let pipeline = seed["pipeline"]["id"].as_str().expect("pipeline").to_owned();

    let operations: Vec<(&str, String, Value, &str)> = vec![
        ("read contacts", "{ contacts { edges { node { id } } } }".into(), json!({}), "viewer"),
        ("read pipelines", "{ pipelines { id } }".into(), json!({}), "viewer"),
        (
            "read deal",
            "query($d: ID!) { deal(id: $d) { title activities { id } } }".into(),
            json!({ "d": deal }),
            "viewer",
        ),
        (
            "create company",
            "mutation { createCompany(input: { name: \"c\" }) { id } }".into(),
            json!({}),
            "member",
        ),
        (
            "create contact",
            "mutation { createContact(input: { firstName: \"c\" }) { id } }".into(),
            json!({}),
            "member",
        ),
        (
            "create deal",
            "mutation { createDeal(input: { title: \"d\", currency: \"USD\" }) { id } }".into(),
            json!({}),
            "member",
        ),
        (
            "move deal",
            "mutation($d: ID!, $s: ID!) { moveDeal(id: $d, stageId: $s) { id } }".into(),
            json!({ "d": deal, "s": stage }),
            "member",
        ),
        (
            "update deal",
            "mutation($d: ID!) { updateDeal(id: $d, input: { probability: 40 }) { id } }".into(),
            json!({ "d": deal }),
            "member",
        ),
        (
            "close deal",
            "mutation($d: ID!) { closeDeal(id: $d, outcome: LOST) { id } }".into(),
            json!({ "d": deal }),
            "member",
        ),
        (
            "reopen deal",
            "mutation($d: ID!) { reopenDeal(id: $d) { id } }".into(),
            json!({ "d": deal }),
            "member",
        ),
        (
            "restore deal",
            "mutation($d: ID!) { restoreDeal(id: $d) { id } }".into(),
            json!({ "d": deal }),
            "member",
        ),
        (
            "add a stage",
            "mutation($p: ID!) { createStage(pipelineId: $p, input: { name: \"Demo\", kind: OPEN }) { id } }"
                .into(),
            json!({ "p": pipeline }),
            "admin",
        ),
        (
            "rename pipeline",
            "mutation($p: ID!) { updatePipeline(id: $p, input: { name: \"Sales\" }) { id } }".into(),
            json!({ "p": pipeline }),
            "admin",
        ),
        (
            "log activity",
            "mutation($d: ID!) { logActivity(input: { type: NOTE, subject: \"n\", dealId: $d }) { id } }"
                .into(),
            json!({ "d": deal }),
            "member",
        ),
        (
            "update settings",
            "mutation { updateTenantSettings(input: { locale: \"en-GB\" }) { locale } }".into(),
            json!({}),
            "admin",
        ),
    ];
    let rank =
        |role: &str| ["viewer", "member", "admin", "owner"].iter().position(|r| *r == role).expect("role");
    for role in ["viewer", "member", "admin", "owner"] {
        let token = mint_role_token(&stack, &org, role).await;
        for (label, query, variables, least) in &operations {
            let response = stack.router(Some(&token), query, variables.clone()).await;
            if rank(role) >= rank(least) {
                assert!(response.error_codes().is_empty(), "{role} may {label}: {}", response.body);
            } else {
                assert_eq!(
                    response.error_codes(),
                    ["FORBIDDEN"],
                    "{role} may not {label}: {}",
                    response.body
                );
            }
        }
    }
}
