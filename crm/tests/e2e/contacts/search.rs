//! Search: names, emails, phones (by digits), job titles, notes and the company's name; typos
//! tolerated through pg_trgm; best matches first; pages of a ranked list stay stable.

use crm_testkit::TestStack;
use serde_json::{Value, json};

use super::{company, contact};

const SEARCH: &str = "query($q: String!, $a: String, $first: Int) {
    contacts(first: $first, after: $a, filter: { search: $q }) {
        totalCount edges { node { firstName lastName } } pageInfo { hasNextPage endCursor } } }";

fn full_names(data: &Value) -> Vec<String> {
    data["contacts"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["node"]["firstName"].as_str().unwrap_or(""),
                e["node"]["lastName"].as_str().unwrap_or("")
            )
        })
        .collect()
}

#[tokio::test]
async fn search_is_ranked_and_typo_tolerant() {
    let stack = TestStack::with_router(crate::CRM).await;
    let org = stack.register_org("Search").await;
    let northwind = company(&stack, &org, json!({ "name": "Northwind Traders" })).await;
    contact(&stack, &org, json!({ "firstName": "John", "lastName": "Smith", "email": "john@acme.example" }))
        .await;
    contact(&stack, &org, json!({ "firstName": "Jonathan", "lastName": "Smithers" })).await;
    contact(&stack, &org, json!({ "firstName": "Mary", "lastName": "Johnson", "phone": "+1 555-0199" }))
        .await;
    contact(
        &stack,
        &org,
        json!({ "firstName": "Alexander", "lastName": "Pushkin", "notes": "poet, prefers letters" }),
    )
    .await;
    contact(
        &stack,
        &org,
        json!({ "firstName": "Zed", "lastName": "Quist", "companyId": northwind, "jobTitle": "Buyer" }),
    )
    .await;
    let search = async |q: &str| {
        let response = stack.router(Some(&org.token), SEARCH, json!({ "q": q, "first": 20 })).await;
        full_names(response.ok())
    };

    let exact = search("john smith").await;
    assert_eq!(
        exact.first().map(String::as_str),
        Some("John Smith"),
        "the exact match ranks first: {exact:?}"
    );
    assert!(search("jonh").await.contains(&"John Smith".to_owned()), "one transposed letter");
    assert_eq!(search("alexandr").await, ["Alexander Pushkin"], "a missing letter");
    assert_eq!(search("pushkni").await, ["Alexander Pushkin"]);
    assert_eq!(search("northwind").await, ["Zed Quist"], "through the company's name");
    assert_eq!(search("poet").await, ["Alexander Pushkin"], "through notes");
    // Exact matches come first; weaker fuzzy ones may follow.
    assert_eq!(search("john@acme").await[0], "John Smith", "through emails");
    assert_eq!(search("5550199").await[0], "Mary Johnson", "phones by their digits");
    assert_eq!(search("buyer").await[0], "Zed Quist", "through job titles");
    assert!(search("xylophone").await.is_empty());

    let smiths = stack.router(Some(&org.token), SEARCH, json!({ "q": "smith", "first": 1 })).await;
    let first = smiths.ok()["contacts"].clone();
    assert_eq!(first["totalCount"], 2);
    let next = stack
        .router(
            Some(&org.token),
            SEARCH,
            json!({ "q": "smith", "first": 1, "a": first["pageInfo"]["endCursor"] }),
        )
        .await;
    let mut both = full_names(smiths.ok());
    both.extend(full_names(next.ok()));
    both.sort();
    assert_eq!(both, ["John Smith", "Jonathan Smithers"], "ranked pages neither repeat nor skip");
    assert_eq!(next.ok()["contacts"]["pageInfo"]["hasNextPage"], false);

    // A search combines with other filters; its text is never part of the statement.
    let combined = stack
        .router(
            Some(&org.token),
            "{ contacts(filter: { search: \"smith\", firstName: { eq: \"John\" } }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(combined.ok()["contacts"]["totalCount"], 1);
    assert!(search("'; DROP TABLE contacts; --").await.is_empty());
    assert_eq!(search("%").await.len(), 0, "LIKE wildcards are literal");
    let companies = stack
        .router(
            Some(&org.token),
            "{ companies(filter: { search: \"nortwind\" }) { edges { node { name } } } }",
            json!({}),
        )
        .await;
    assert_eq!(companies.ok()["companies"]["edges"][0]["node"]["name"], "Northwind Traders");
}
