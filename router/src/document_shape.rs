//! Refuses documents that are too big or too deeply nested before the router parses them. The
//! router's own limits (`max_tokens`, `max_depth`) apply after parsing, and a few dozen levels
//! of nested braces were enough to keep a router worker busy for good; this counts tokens and
//! nesting in one pass over the text (braces inside strings do not count).

use crm_platform::error_codes::{MAX_NESTING, VALIDATION_FAILED, measure};
use hive_router::GraphQLError;
use hive_router::async_trait;
use hive_router::http::StatusCode;
use hive_router::plugins::hooks::on_graphql_parse::{
    OnGraphQLParseHookResult, OnGraphQLParseStartHookPayload,
};
use hive_router::plugins::hooks::on_plugin_init::{OnPluginInitPayload, OnPluginInitResult};
use hive_router::plugins::plugin_trait::{RouterPlugin, StartHookPayload};

/// The router's `limits.max_tokens`.
const MAX_TOKENS: usize = 5000;

pub struct DocumentShapePlugin;

#[async_trait]
impl RouterPlugin for DocumentShapePlugin {
    type Config = serde_json::Value;

    fn plugin_name() -> &'static str {
        "document_shape"
    }

    fn on_plugin_init(payload: OnPluginInitPayload<Self>) -> OnPluginInitResult<Self> {
        payload.initialize_plugin(Self)
    }

    async fn on_graphql_parse<'exec>(
        &'exec self,
        payload: OnGraphQLParseStartHookPayload<'exec>,
    ) -> OnGraphQLParseHookResult<'exec> {
        let Some(query) = payload.graphql_params.query.as_deref() else { return payload.proceed() };
        let shape = measure(query, MAX_TOKENS);
        let refusal = if shape.tokens > MAX_TOKENS {
            Some(format!("the document has too many tokens (at most {MAX_TOKENS})"))
        } else if shape.depth > MAX_NESTING {
            Some(format!("the document is nested too deep (at most {MAX_NESTING} levels)"))
        } else {
            None
        };
        match refusal {
            Some(message) => payload.end_with_graphql_error(
                GraphQLError::from_message_and_code(message, VALIDATION_FAILED),
                StatusCode::BAD_REQUEST,
            ),
            None => payload.proceed(),
        }
    }
}
