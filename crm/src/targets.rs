//! The subgraphs this binary can run, by name.

use crm_platform::Subgraph;

pub const NAMES: [&str; 5] = ["auth", "tenant", "contact", "deal", "communication"];

pub fn all() -> Vec<Subgraph> {
    vec![
        crm_auth::SUBGRAPH,
        crm_tenant::SUBGRAPH,
        crm_contact::SUBGRAPH,
        crm_deal::SUBGRAPH,
        crm_communication::SUBGRAPH,
    ]
}

pub fn select(names: &[String]) -> Vec<Subgraph> {
    all().into_iter().filter(|s| names.iter().any(|n| n == s.name)).collect()
}
