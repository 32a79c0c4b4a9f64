//! Contacts and companies: writes and the trash, custom fields, filters and search, duplicates
//! and merges across subgraphs, the lookup cache, and tenant isolation of all of it.

mod cache;
mod crud;
mod custom_fields;
mod filters;
mod isolation;
mod merge;
mod search;
mod transfers;

use crm_testkit::{Org, TestStack};
use serde_json::{Value, json};

pub const CREATE_CONTACT: &str = "mutation($i: CreateContactInput!) { createContact(input: $i) { id } }";
pub const CREATE_COMPANY: &str = "mutation($i: CreateCompanyInput!) { createCompany(input: $i) { id } }";

/// Creates a contact from a full input and returns its id.
pub async fn contact(stack: &TestStack, org: &Org, input: Value) -> String {
    stack.create("contact", &org.token, CREATE_CONTACT, input).await
}

pub async fn company(stack: &TestStack, org: &Org, input: Value) -> String {
    stack.create("contact", &org.token, CREATE_COMPANY, input).await
}

/// Defines a custom field as the owner and returns its id.
pub async fn custom_field(stack: &TestStack, org: &Org, input: Value) -> String {
    const CREATE: &str = "mutation($i: CreateCustomFieldInput!) { createCustomField(input: $i) { id } }";
    stack.create("contact", &org.token, CREATE, input).await
}

/// First names of the contacts `filter` and `order` select, in order, following every page.
pub async fn names(stack: &TestStack, org: &Org, filter: Value, order: Value) -> Vec<String> {
    const PAGE: &str = "query($f: ContactFilter, $o: [ContactOrder!], $a: String) {
        contacts(first: 2, after: $a, filter: $f, orderBy: $o) {
            edges { node { firstName } } pageInfo { hasNextPage endCursor } } }";
    let mut names = Vec::new();
    let mut after = Value::Null;
    for _ in 0..100 {
        let vars = json!({ "f": filter, "o": order, "a": after });
        let response = stack.subgraph("contact", Some(&org.token), PAGE, vars).await;
        let page = response.ok()["contacts"].clone();
        for edge in page["edges"].as_array().expect("edges") {
            names.push(edge["node"]["firstName"].as_str().expect("name").to_owned());
        }
        if page["pageInfo"]["hasNextPage"] != json!(true) {
            return names;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    panic!("more than 100 pages");
}

/// The error codes and the `field` of the first error of a contact-subgraph call.
pub async fn refusal(stack: &TestStack, token: &str, query: &str, variables: Value) -> (Vec<String>, Value) {
    let response = stack.subgraph("contact", Some(token), query, variables).await;
    (response.error_codes(), response.body["errors"][0]["extensions"]["field"].clone())
}
