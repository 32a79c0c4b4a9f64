//! Stable `extensions.code`s on the errors async-graphql writes itself: a document that does not
//! parse is GRAPHQL_PARSE_FAILED; one refused before execution (validation, limits, an unknown
//! operation) GRAPHQL_VALIDATION_FAILED; an execution error our resolvers did not code (argument
//! coercion) BAD_USER_INPUT.
//!
//! Done around the schema ([`Coded`]) rather than as a schema extension: any extension makes
//! async-graphql run every field of every response through the extension chain, a cost paid
//! per field for what concerns a handful of errors.

use std::sync::Arc;

use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{Data, Executor, Request, Response, ServerError};
use futures::StreamExt;
use futures::stream::BoxStream;

pub const PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
pub const VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";

/// Above the router's 30: the router may alias fields in the queries it plans.
pub const MAX_ALIASES: usize = 100;
/// Tokens in one document, counted before it is parsed (the router's limit is 5,000, so what
/// it plans always fits; this bounds what reaches a subgraph directly).
pub const MAX_TOKENS: usize = 15_000;
/// Nesting of braces, brackets and parentheses in one document, checked before it is parsed:
/// queries are at most 12 fields deep, and deeper documents only serve to exhaust parsers.
pub const MAX_NESTING: usize = 32;

/// An executor (a subgraph's schema) whose errors all carry a code.
#[derive(Clone)]
pub struct Coded<E>(pub E);

impl<E: Executor> Executor for Coded<E> {
    async fn execute(&self, mut request: Request) -> Response {
        if let Err(refusal) = check_document(&mut request) {
            return Response::from_errors(vec![refusal]);
        }
        let mut response = self.0.execute(request).await;
        code_errors(&mut response.errors);
        response
    }

    fn execute_stream(
        &self,
        mut request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        if let Err(refusal) = check_document(&mut request) {
            return futures::stream::once(std::future::ready(Response::from_errors(vec![refusal]))).boxed();
        }
        self.0
            .execute_stream(request, session_data)
            .map(|mut response| {
                code_errors(&mut response.errors);
                response
            })
            .boxed()
    }
}

/// Parses the document (kept in the request, so it is parsed once) and applies the alias limit,
/// which async-graphql does not have, and refuses NUL characters in any text (PostgreSQL cannot
/// store them: refused here, by variable, they never become an internal error downstream).
fn check_document(request: &mut Request) -> Result<(), ServerError> {
    let shape = measure(&request.query, MAX_TOKENS);
    if shape.tokens > MAX_TOKENS {
        let error =
            ServerError::new(format!("the document has too many tokens (at most {MAX_TOKENS})"), None);
        return Err(with_code(error, VALIDATION_FAILED));
    }
    if shape.depth > MAX_NESTING {
        let error =
            ServerError::new(format!("the document is nested too deep (at most {MAX_NESTING} levels)"), None);
        return Err(with_code(error, VALIDATION_FAILED));
    }
    for (name, value) in request.variables.iter() {
        if holds_nul(value) {
            let mut error =
                ServerError::new(format!("${name} holds a NUL character, which text may not contain"), None);
            error.extensions.get_or_insert_with(Default::default).set("field", name.as_str());
            return Err(with_code(error, BAD_USER_INPUT));
        }
    }
    let escaped_nul = request.query.as_bytes().windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000"));
    if request.query.contains('\0') || escaped_nul {
        let error = ServerError::new("the document holds a NUL character, which text may not contain", None);
        return Err(with_code(error, BAD_USER_INPUT));
    }
    let document = request.parsed_query().map_err(|error| with_code(error, PARSE_FAILED))?;
    if count_aliases(document) > MAX_ALIASES {
        let error = ServerError::new(format!("aliases limit exceeded (at most {MAX_ALIASES})"), None);
        return Err(with_code(error, VALIDATION_FAILED));
    }
    Ok(())
}

/// The size of a document as a lexer sees it, measured before anything parses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    /// Names, numbers, strings and punctuators (commas, spaces and comments are not tokens);
    /// counting stops one past the limit it was given.
    pub tokens: usize,
    /// The deepest nesting of `{`, `[` and `(`.
    pub depth: usize,
}

/// Measures `query` without parsing it, stopping once it has more than `token_limit` tokens.
pub fn measure(query: &str, token_limit: usize) -> Shape {
    let bytes = query.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'+');
    let (mut at, mut tokens, mut depth, mut deepest) = (0, 0, 0_usize, 0);
    while at < bytes.len() && tokens <= token_limit {
        match bytes[at] {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => {
                at += 1;
                continue;
            }
            b'#' => {
                while at < bytes.len() && bytes[at] != b'\n' {
                    at += 1;
                }
                continue;
            }
            b'"' if bytes[at..].starts_with(b"\"\"\"") => {
                at += 3;
                while at < bytes.len() && !bytes[at..].starts_with(b"\"\"\"") {
                    at += 1;
                }
                at += 3;
            }
            b'"' => {
                at += 1;
                while at < bytes.len() && bytes[at] != b'"' {
                    at += if bytes[at] == b'\\' { 2 } else { 1 };
                }
                at += 1;
            }
            b'.' if bytes[at..].starts_with(b"...") => at += 3,
            b'{' | b'[' | b'(' => {
                depth += 1;
                deepest = deepest.max(depth);
                at += 1;
            }
            b'}' | b']' | b')' => {
                depth = depth.saturating_sub(1);
                at += 1;
            }
            b if word(b) => {
                while at < bytes.len() && word(bytes[at]) {
                    at += 1;
                }
            }
            _ => at += 1,
        }
        tokens += 1;
    }
    Shape { tokens, depth: deepest }
}

fn holds_nul(value: &async_graphql::Value) -> bool {
    use async_graphql::Value;
    match value {
        Value::String(text) => text.contains('\0'),
        Value::List(items) => items.iter().any(holds_nul),
        Value::Object(fields) => fields.iter().any(|(key, value)| key.contains('\0') || holds_nul(value)),
        _ => false,
    }
}

/// Codes what is not coded yet: an error with no path was raised before execution.
fn code_errors(errors: &mut [ServerError]) {
    for error in errors {
        let code = if error.path.is_empty() { VALIDATION_FAILED } else { BAD_USER_INPUT };
        set_code(error, code);
    }
}

fn with_code(mut error: ServerError, code: &str) -> ServerError {
    set_code(&mut error, code);
    error
}

fn set_code(error: &mut ServerError, code: &str) {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", code);
    }
}

/// Aliased fields in the operations and fragments of `document`.
fn count_aliases(document: &ExecutableDocument) -> usize {
    use async_graphql::parser::types::{Selection, SelectionSet};
    fn walk(set: &SelectionSet) -> usize {
        set.items
            .iter()
            .map(|item| match &item.node {
                Selection::Field(field) => {
                    usize::from(field.node.alias.is_some()) + walk(&field.node.selection_set.node)
                }
                Selection::InlineFragment(fragment) => walk(&fragment.node.selection_set.node),
                Selection::FragmentSpread(_) => 0,
            })
            .sum()
    }
    let operations: usize = document.operations.iter().map(|(_, op)| walk(&op.node.selection_set.node)).sum();
    let fragments: usize = document.fragments.values().map(|f| walk(&f.node.selection_set.node)).sum();
    operations + fragments
}

#[cfg(test)]
mod tests {
    use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema};

    use super::*;

    struct Query;

    #[Object]
    impl Query {
        async fn number(&self, n: i32) -> i32 {
            n
        }
    }

    async fn codes(query: &str) -> Vec<String> {
        let schema = Coded(Schema::build(Query, EmptyMutation, EmptySubscription).limit_depth(2).finish());
        let response = schema.execute(Request::new(query)).await;
        response
            .errors
            .iter()
            .map(|e| {
                e.extensions.as_ref().and_then(|x| x.get("code")).map(|c| c.to_string()).unwrap_or_default()
            })
            .collect()
    }

    #[tokio::test]
    async fn every_refusal_has_a_code() {
        assert_eq!(codes("{ number(n: 1) ").await, [format!("\"{PARSE_FAILED}\"")]);
        assert_eq!(codes("{ numbr(n: 1) }").await, [format!("\"{VALIDATION_FAILED}\"")]);
        let aliases: String = (0..=MAX_ALIASES).map(|k| format!("a{k}: number(n: {k}) ")).collect();
        assert_eq!(codes(&format!("{{ {aliases} }}")).await, [format!("\"{VALIDATION_FAILED}\"")]);
        assert_eq!(codes("query($n: Int!) { number(n: $n) }").await, [format!("\"{BAD_USER_INPUT}\"")]);
        assert!(codes("{ number(n: 1) }").await.is_empty());
    }

    fn exceeds_tokens(query: &str, limit: usize) -> bool {
        measure(query, limit).tokens > limit
    }

    #[test]
    fn tokens_are_counted_as_a_parser_would() {
        // { a ( b : "x y z" c : 1.5e-3 ) { ... F } }: fifteen.
        assert!(!exceeds_tokens("{ a(b: \"x y z\", c: 1.5e-3) { ...F } } # many words here", 15));
        assert!(exceeds_tokens("{ a(b: \"x y z\", c: 1.5e-3) { ...F } }", 14));
        assert!(!exceeds_tokens("\"\"\" a block\n string \"\"\" x", 2));
        assert!(exceeds_tokens(&"a ".repeat(MAX_TOKENS + 1), MAX_TOKENS));
        let shape = measure("{ a(f: { b: [1, { c: \"{{{{\" }] }) { d } }", 100);
        assert_eq!(shape.depth, 5, "braces inside strings do not count");
    }

    #[tokio::test]
    async fn nul_characters_are_refused_in_variables_and_literals() {
        let schema = Coded(Schema::build(Query, EmptyMutation, EmptySubscription).finish());
        let variables =
            async_graphql::Variables::from_json(serde_json::json!({ "n": 1, "deep": { "x": ["a\u{0}b"] } }));
        let response =
            schema.execute(Request::new("query($n: Int!) { number(n: $n) }").variables(variables)).await;
        let error = &response.errors[0];
        let extensions = error.extensions.as_ref().expect("extensions");
        assert_eq!(extensions.get("code").map(|c| c.to_string()), Some(format!("\"{BAD_USER_INPUT}\"")));
        assert_eq!(extensions.get("field").map(|c| c.to_string()), Some("\"deep\"".to_owned()));
        let literal =
            schema.execute(Request::new("{ number(n: 1) __typename @skip(if: false) } # \\u0000")).await;
        assert_eq!(literal.errors.len(), 1, "{:?}", literal.errors);
    }
}
