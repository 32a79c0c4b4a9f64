//! Every subgraph of the product, in one list. `crm` serves them and composes their schemas,
//! the test kit starts them, and tests hold the router's configuration and compose.yaml to the
//! same set.
//!
//! Adding a subgraph: a new crate under `subgraphs/` exporting a `SUBGRAPH`, its line in
//! [`ALL`] and its dependency in this crate's Cargo.toml; the tests below then ask for its URL
//! in `router/router.config.yaml` and its service in `compose.yaml`.

use crm_platform::Subgraph;
use crm_platform::consumer::Consumer;

pub const ALL: &[Subgraph] = &[
    crm_auth::SUBGRAPH,
    crm_tenant::SUBGRAPH,
    crm_contact::SUBGRAPH,
    crm_deal::SUBGRAPH,
    crm_communication::SUBGRAPH,
];

/// Every subgraph's name, in order.
pub fn names() -> impl Iterator<Item = &'static str> {
    ALL.iter().copied().map(|subgraph| subgraph.name)
}

/// Every event consumer of every subgraph.
pub fn consumers() -> impl Iterator<Item = Consumer> {
    ALL.iter().flat_map(|subgraph| subgraph.consumers.iter().copied())
}

/// The consumer of that durable name.
pub fn consumer(name: &str) -> Option<Consumer> {
    consumers().find(|consumer| consumer.name == name)
}

/// The subgraphs named in `names`, in registry order.
pub fn named(names: &[String]) -> Vec<Subgraph> {
    ALL.iter().copied().filter(|subgraph| names.iter().any(|name| name == subgraph.name)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_ports_and_consumer_names_are_unique() {
        let mut names: Vec<_> = names().collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
        let mut ports: Vec<_> = ALL.iter().map(|s| s.default_port).collect();
        ports.sort_unstable();
        ports.dedup();
        assert_eq!(ports.len(), ALL.len());
        // A consumer's name is its durable subscription and its ledger key: two alike would
        // share both and each see half the events.
        let mut consumers: Vec<_> = consumers().map(|consumer| consumer.name).collect();
        let count = consumers.len();
        consumers.sort_unstable();
        consumers.dedup();
        assert_eq!(consumers.len(), count, "consumer names are unique");
    }

    /// The router reaches every subgraph through `override_subgraph_urls`: each registered
    /// subgraph must be there, read from its own variable with its own default port, and nothing
    /// else may be.
    #[test]
    fn the_router_config_names_exactly_the_registered_subgraphs() {
        let config: serde_yaml_ng::Value =
            serde_yaml_ng::from_str(include_str!("../../../router/router.config.yaml")).expect("valid YAML");
        let configured = config["override_subgraph_urls"]["subgraphs"].as_mapping().expect("subgraph URLs");
        let mut names: Vec<&str> = configured.keys().filter_map(|k| k.as_str()).collect();
        names.sort_unstable();
        let mut registered: Vec<&str> = super::names().collect();
        registered.sort_unstable();
        assert_eq!(names, registered, "router.config.yaml override_subgraph_urls");
        for subgraph in ALL {
            let url = &configured[subgraph.name]["url"];
            assert_eq!(url["from_env"].as_str(), Some(subgraph.url_var().as_str()), "{}", subgraph.name);
            let default = format!("http://127.0.0.1:{}/graphql", subgraph.default_port);
            assert_eq!(url["default"].as_str(), Some(default.as_str()), "{}", subgraph.name);
        }
        let streamed =
            config["subscriptions"]["websocket"]["subgraphs"].as_mapping().expect("websocket subgraphs");
        for name in streamed.keys().filter_map(|k| k.as_str()) {
            assert!(registered.contains(&name), "subscriptions name an unknown subgraph {name}");
        }
    }

    /// compose.yaml runs each subgraph as a service of its name (`crm serve <name>`) on its
    /// default port, tells the router its URL, and runs nothing unregistered.
    #[test]
    fn compose_runs_exactly_the_registered_subgraphs() {
        let compose: serde_yaml_ng::Value =
            serde_yaml_ng::from_str(include_str!("../../../compose.yaml")).expect("valid YAML");
        let services = compose["services"].as_mapping().expect("services");
        let mut served: Vec<&str> = services
            .values()
            .filter_map(|service| service["command"].as_sequence())
            .filter(|command| command.first().and_then(|c| c.as_str()) == Some("serve"))
            .filter_map(|command| command.get(1).and_then(|name| name.as_str()))
            .collect();
        served.sort_unstable();
        let mut registered: Vec<&str> = super::names().collect();
        registered.sort_unstable();
        assert_eq!(served, registered, "compose.yaml services running `serve`");
        let router = &compose["services"]["router"]["environment"];
        for subgraph in ALL {
            let service = &compose["services"][subgraph.name];
            assert_eq!(
                service["environment"]["PORT"].as_str(),
                Some(subgraph.default_port.to_string().as_str())
            );
            let url = format!("http://{}:{}/graphql", subgraph.name, subgraph.default_port);
            assert_eq!(
                router[subgraph.url_var().as_str()].as_str(),
                Some(url.as_str()),
                "router's {}",
                subgraph.url_var()
            );
        }
    }
}
