//! Says what failed, never what a failing subgraph sent. When a subgraph cannot be reached,
//! times out or answers something that is not a GraphQL response, the router's own error
//! message can quote the answer (a fragment of an HTML error page or of a broken body). This
//! keeps the error's code, service and path, so clients still know which part of the data is
//! missing and whether to retry, and replaces the message with a fixed one per code.

use hive_router::async_trait;
use hive_router::plugins::hooks::on_graphql_error::{OnGraphQLErrorHookPayload, OnGraphQLErrorHookResult};
use hive_router::plugins::hooks::on_plugin_init::{OnPluginInitPayload, OnPluginInitResult};
use hive_router::plugins::plugin_trait::RouterPlugin;

pub struct SubgraphFailuresPlugin;

/// The fixed message for each router code that reports a subgraph failure.
fn message_for(code: &str) -> Option<&'static str> {
    Some(match code {
        "SUBREQUEST_HTTP_ERROR" => "A service this data comes from is unavailable; try again shortly",
        "SUBGRAPH_REQUEST_TIMEOUT" => "A service this data comes from did not answer in time",
        "SUBGRAPH_CIRCUIT_BREAKER_REJECTED" => {
            "A service this data comes from is failing and is given time to recover; try again shortly"
        }
        "SUBREQUEST_MALFORMED_RESPONSE"
        | "SUBGRAPH_RESPONSE_FAILURE"
        | "SUBGRAPH_RESPONSE_BODY_READ_FAILURE"
        | "SUBGRAPH_RESPONSE_BODY_EMPTY"
        | "SUBGRAPH_RESPONSE_DECOMPRESSION_FAILURE"
        | "SUBGRAPH_INTERNAL_SERVER_ERROR" => "Unexpected error",
        _ => return None,
    })
}

#[async_trait]
impl RouterPlugin for SubgraphFailuresPlugin {
    type Config = serde_json::Value;

    fn plugin_name() -> &'static str {
        "subgraph_failures"
    }

    fn on_plugin_init(payload: OnPluginInitPayload<Self>) -> OnPluginInitResult<Self> {
        payload.initialize_plugin(Self)
    }

    fn on_graphql_error<'req>(
        &'req self,
        mut payload: OnGraphQLErrorHookPayload<'req>,
    ) -> OnGraphQLErrorHookResult<'req> {
        if let Some(message) = payload.error.extensions.code.as_deref().and_then(message_for) {
            payload.error.message = message.to_owned();
        }
        payload.proceed()
    }
}

#[cfg(test)]
mod tests {
    use super::message_for;

    #[test]
    fn subgraph_failures_get_fixed_messages_and_other_errors_keep_theirs() {
        for code in ["SUBREQUEST_HTTP_ERROR", "SUBREQUEST_MALFORMED_RESPONSE", "SUBGRAPH_REQUEST_TIMEOUT"] {
            assert!(message_for(code).is_some(), "{code}");
        }
        for code in ["BAD_USER_INPUT", "UNAUTHENTICATED", "SERVICE_UNAVAILABLE"] {
            assert_eq!(message_for(code), None, "{code}");
        }
    }
}
