//! RELIABILITY I1–I3: a seeded, schema-aware generator sends malformed and hostile operations
//! and variables through the router and straight to each subgraph, signed in as a real member:
//! every root field with arguments of the wrong type, out of range (i64 overflow, NaN, huge
//! strings), unknown enum values, null where null is not allowed, ids that name nothing, deep
//! nesting, and documents cut or garbled at random. Every answer must be a client answer (no
//! 5xx), carry a code on every error, never be INTERNAL, and never quote internals.
//!
//! `FUZZ_COUNT` (default 300) and `FUZZ_SEED` (default 1) set the run; `scripts/faults/fuzz`
//! runs it for longer with a seed of its own.

use std::collections::HashMap;

use crm_testkit::TestStack;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::CRM;

const INTROSPECTION: &str = "{ __schema { queryType { name } mutationType { name } types { kind name
    fields { name args { name type { ...T } } type { ...T } }
    inputFields { name type { ...T } }
    enumValues { name } } } }
    fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }";

/// Mutations that would end the fuzzer's own session or organization (the rest of the run
/// would then only test sign-in refusals).
const SPARED: [&str; 9] = [
    "logout",
    "logoutAll",
    "deleteOrganization",
    "leaveOrganization",
    "changePassword",
    "resetPassword",
    "switchTenant",
    "removeMember",
    "updateMemberRole",
];

/// A type reference: the named type with its list and non-null wrappers, outermost first.
#[derive(Clone, Debug)]
struct TypeRef {
    wrappers: Vec<&'static str>,
    name: String,
}

fn type_ref(value: &Value) -> TypeRef {
    let mut wrappers = Vec::new();
    let mut current = value;
    loop {
        match current["kind"].as_str() {
            Some("NON_NULL") => wrappers.push("!"),
            Some("LIST") => wrappers.push("[]"),
            _ => break,
        }
        current = &current["ofType"];
    }
    TypeRef { wrappers, name: current["name"].as_str().unwrap_or("String").to_owned() }
}

impl TypeRef {
    fn non_null(&self) -> bool {
        self.wrappers.first() == Some(&"!")
    }

    fn is_list(&self) -> bool {
        self.wrappers.contains(&"[]")
    }

    /// As written in a variable definition.
    fn written(&self) -> String {
        fn write(wrappers: &[&str], name: &str) -> String {
            match wrappers.split_first() {
                Some((&"!", rest)) => format!("{}!", write(rest, name)),
                Some((_, rest)) => format!("[{}]", write(rest, name)),
                None => name.to_owned(),
            }
        }
        write(&self.wrappers, &self.name)
    }
}

struct Field {
    name: String,
    args: Vec<(String, TypeRef)>,
    ty: TypeRef,
}

struct Schema {
    kinds: HashMap<String, String>,
    fields: HashMap<String, Vec<Field>>,
    inputs: HashMap<String, Vec<(String, TypeRef)>>,
    enums: HashMap<String, Vec<String>>,
    query: String,
    mutation: String,
}

impl Schema {
    fn from_introspection(data: &Value) -> Self {
        let schema = &data["__schema"];
        let mut parsed = Schema {
            kinds: HashMap::new(),
            fields: HashMap::new(),
            inputs: HashMap::new(),
            enums: HashMap::new(),
            query: schema["queryType"]["name"].as_str().unwrap_or("Query").to_owned(),
            mutation: schema["mutationType"]["name"].as_str().unwrap_or("Mutation").to_owned(),
        };
        for ty in schema["types"].as_array().expect("types") {
            let name = ty["name"].as_str().expect("name").to_owned();
            parsed.kinds.insert(name.clone(), ty["kind"].as_str().unwrap_or("").to_owned());
            if let Some(fields) = ty["fields"].as_array() {
                let fields = fields
                    .iter()
                    .map(|f| Field {
                        name: f["name"].as_str().expect("field").to_owned(),
                        args: f["args"]
                            .as_array()
                            .map(|args| {
                                args.iter()
                                    .map(|a| {
                                        (a["name"].as_str().expect("arg").to_owned(), type_ref(&a["type"]))
                                    })
                                    .collect()
                            })
                            .unwrap_or_default(),
                        ty: type_ref(&f["type"]),
                    })
                    .collect();
                parsed.fields.insert(name.clone(), fields);
            }
            if let Some(inputs) = ty["inputFields"].as_array() {
                let inputs = inputs
                    .iter()
                    .map(|f| (f["name"].as_str().expect("input").to_owned(), type_ref(&f["type"])))
                    .collect();
                parsed.inputs.insert(name.clone(), inputs);
            }
            if let Some(values) = ty["enumValues"].as_array() {
                parsed.enums.insert(
                    name,
                    values.iter().filter_map(|v| v["name"].as_str().map(str::to_owned)).collect(),
                );
            }
        }
        parsed
    }
}

/// Hostile values of any type: what a broken or malicious client sends.
fn hostile(rng: &mut StdRng) -> Value {
    let choices = [
        json!(9_223_372_036_854_775_807_i64),
        json!(-9_223_372_036_854_775_808_i64),
        json!(1e308),
        json!("NaN"),
        json!("Infinity"),
        json!(-1),
        json!(0),
        json!(2_147_483_648_i64),
        json!(""),
        json!(" "),
        json!("x".repeat(70_000)),
        json!("\u{0000}nul"),
        json!("\u{202e}rtl\u{200b}"),
        json!("İstanbul ß 🙂"),
        json!("'; DROP TABLE contacts; --"),
        json!("{{ 7*7 }}<script>"),
        json!(true),
        json!([]),
        json!([[[[[[[[[[1]]]]]]]]]]),
        json!({}),
        json!({ "a": { "b": { "c": { "d": {} } } } }),
        json!(null),
        json!(uuid::Uuid::new_v4().to_string()),
        json!("not-a-uuid"),
        json!("2026-13-45T99:99:99Z"),
        json!("NOT_AN_ENUM_VALUE"),
        json!(-0.0),
        json!(0.1),
    ];
    choices.choose(rng).cloned().unwrap_or(Value::Null)
}

struct Generator<'a> {
    schema: &'a Schema,
    rng: StdRng,
}

impl Generator<'_> {
    /// A value for `ty`: usually plausible, sometimes hostile.
    fn value(&mut self, ty: &TypeRef, depth: usize) -> Value {
        if self.rng.gen_bool(0.25) || depth > 4 {
            return hostile(&mut self.rng);
        }
        if !ty.non_null() && self.rng.gen_bool(0.1) {
            return Value::Null;
        }
        if ty.is_list() {
            let inner = TypeRef { wrappers: Vec::new(), name: ty.name.clone() };
            let count = self.rng.gen_range(0..4);
            return Value::Array((0..count).map(|_| self.value(&inner, depth + 1)).collect());
        }
        let kind = self.schema.kinds.get(&ty.name).map(String::as_str).unwrap_or("SCALAR");
        match kind {
            "ENUM" => {
                let values = self.schema.enums.get(&ty.name).cloned().unwrap_or_default();
                values.choose(&mut self.rng).map(|v| json!(v)).unwrap_or(Value::Null)
            }
            "INPUT_OBJECT" => {
                let fields = self.schema.inputs.get(&ty.name).map(|f| f.to_vec()).unwrap_or_default();
                let mut object = serde_json::Map::new();
                for (name, field_ty) in fields {
                    if field_ty.non_null() || self.rng.gen_bool(0.4) {
                        object.insert(name, self.value(&field_ty, depth + 1));
                    }
                }
                Value::Object(object)
            }
            _ => match ty.name.as_str() {
                "Int" => json!(self.rng.gen_range(-5..200)),
                "Float" => json!(self.rng.gen_range(-10.0..1e6)),
                "Boolean" => json!(self.rng.gen_bool(0.5)),
                "ID" => json!(uuid::Uuid::now_v7().to_string()),
                "DateTime" => json!("2026-11-30T12:00:00Z"),
                "Date" => json!("2026-11-30"),
                "Decimal" => json!("1234.50"),
                "JSON" => json!({ "k": "v" }),
                _ => json!(
                    ["Ada", "ada@example.com", "deal.*", "https://hooks.example.com/x"].choose(&mut self.rng)
                ),
            },
        }
    }

    /// A selection set for `type_name` (at most `depth` deep), with arguments inline.
    fn selection(&mut self, type_name: &str, depth: usize) -> String {
        let Some(fields) = self.schema.fields.get(type_name) else { return String::new() };
        let kind = self.schema.kinds.get(type_name).map(String::as_str).unwrap_or("");
        if !matches!(kind, "OBJECT" | "INTERFACE") {
            return String::new();
        }
        let mut chosen = Vec::new();
        let count = self.rng.gen_range(1..=3);
        for _ in 0..count {
            let Some(field) = fields.choose(&mut self.rng) else { break };
            let inner_kind = self.schema.kinds.get(&field.ty.name).map(String::as_str).unwrap_or("SCALAR");
            let args = self.inline_args(&field.args);
            if matches!(inner_kind, "OBJECT" | "INTERFACE" | "UNION") {
                if depth == 0 || inner_kind == "UNION" {
                    continue;
                }
                let inner = self.selection(&field.ty.name, depth - 1);
                if !inner.is_empty() {
                    chosen.push(format!("{}{args} {inner}", field.name));
                }
            } else {
                chosen.push(format!("{}{args}", field.name));
            }
        }
        if chosen.is_empty() {
            chosen.push("__typename".to_owned());
        }
        format!("{{ {} }}", chosen.join(" "))
    }

    fn inline_args(&mut self, args: &[(String, TypeRef)]) -> String {
        let mut parts = Vec::new();
        for (name, ty) in args {
            if ty.non_null() || self.rng.gen_bool(0.3) {
                let value = self.value(ty, 0);
                parts.push(format!("{name}: {}", graphql_literal(&value, &ty.name, self.schema)));
            }
        }
        if parts.is_empty() { String::new() } else { format!("({})", parts.join(", ")) }
    }

    /// One operation with its variables.
    fn operation(&mut self) -> (String, Value) {
        let mutation = self.rng.gen_bool(0.35);
        let root = if mutation { self.schema.mutation.clone() } else { self.schema.query.clone() };
        let fields: Vec<&Field> =
            self.schema.fields[&root].iter().filter(|f| !SPARED.contains(&f.name.as_str())).collect();
        let field = fields.choose(&mut self.rng).expect("a root field");
        let mut definitions = Vec::new();
        let mut args = Vec::new();
        let mut variables = serde_json::Map::new();
        for (name, ty) in &field.args {
            if !ty.non_null() && self.rng.gen_bool(0.5) {
                continue;
            }
            let value = self.value(ty, 0);
            // Sometimes a variable declared with another type than the argument's.
            let declared = if self.rng.gen_bool(0.1) { "String".to_owned() } else { ty.written() };
            definitions.push(format!("${name}: {declared}"));
            args.push(format!("{name}: ${name}"));
            variables.insert(name.clone(), value);
        }
        let selection = self.selection(&field.ty.name, 3);
        let keyword = if mutation { "mutation" } else { "query" };
        let definitions =
            if definitions.is_empty() { String::new() } else { format!("({})", definitions.join(", ")) };
        let args = if args.is_empty() { String::new() } else { format!("({})", args.join(", ")) };
        let mut document = format!("{keyword} Fuzz{definitions} {{ {}{args} {selection} }}", field.name);
        // Now and then, a document cut short, garbled, or buried in nesting.
        if self.rng.gen_bool(0.02) {
            let depth = self.rng.gen_range(20..80);
            document = format!("{}{document}{}", "{ __typename ".repeat(depth), " }".repeat(depth));
        } else if self.rng.gen_bool(0.1) {
            let cut = self.rng.gen_range(0..document.len().max(1));
            document.truncate(document.floor_char_boundary(cut));
        } else if self.rng.gen_bool(0.05) {
            let noise = ["{", "}", "(", "$", "\"", "...", "@skip", "#", "\\u0000", "\u{fffd}"];
            let at = document.floor_char_boundary(self.rng.gen_range(0..document.len()));
            document.insert_str(at, noise.choose(&mut self.rng).unwrap_or(&"{"));
        }
        (document, Value::Object(variables))
    }
}

/// `value` written as a GraphQL literal (enum values bare when the type is an enum).
fn graphql_literal(value: &Value, type_name: &str, schema: &Schema) -> String {
    match value {
        Value::String(s) if schema.kinds.get(type_name).is_some_and(|k| k == "ENUM") => {
            if s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !s.is_empty() {
                s.clone()
            } else {
                value.to_string()
            }
        }
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(|i| graphql_literal(i, type_name, schema)).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{k}: {}", graphql_literal(v, "", schema)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

/// What every answer must be: a client answer with coded errors and no internals.
fn check(target: &str, document: &str, status: u16, body: &Value) -> Option<String> {
    let text = body.to_string();
    if status >= 500 {
        return Some(format!("{target}: HTTP {status} for {document}: {text}"));
    }
    if let Some(errors) = body["errors"].as_array() {
        for error in errors {
            let code = error["extensions"]["code"].as_str();
            if code.is_none() {
                return Some(format!("{target}: error without a code for {document}: {error}"));
            }
            if code == Some("INTERNAL") {
                return Some(format!("{target}: INTERNAL for {document}: {error}"));
            }
        }
    }
    let lower = text.to_lowercase();
    for leak in [
        "sqlx",
        "postgres",
        "panicked",
        "backtrace",
        "relation \"",
        "tenant_",
        "dberr",
        "syntax error at or near",
    ] {
        if lower.contains(leak) {
            return Some(format!("{target}: {leak} leaked for {document}: {text}"));
        }
    }
    None
}

#[tokio::test]
async fn hostile_operations_get_coded_client_answers_from_router_and_subgraphs() {
    let count: usize = std::env::var("FUZZ_COUNT").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
    let seed: u64 = std::env::var("FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    let stack = TestStack::with_router(CRM).await;
    let org = stack.register_org("Fuzzed").await;
    let mut token = org.token.clone();
    let mut signed_in = std::time::Instant::now();
    let introspected = stack.router(Some(&token), INTROSPECTION, json!({})).await;
    let schema = Schema::from_introspection(introspected.ok());
    let mut generator = Generator { schema: &schema, rng: StdRng::seed_from_u64(seed) };
    let targets: Vec<String> = std::iter::once(stack.router_url())
        .chain(crm_subgraphs::names().map(|name| format!("{}/graphql", stack.subgraph_url(name))))
        .collect();

    let mut failures = Vec::new();
    let mut statuses: HashMap<u16, usize> = HashMap::new();
    for n in 0..count {
        // Tokens expire; a long run takes a fresh one first (minted: the fuzzer's own login
        // attempts have long used up the sign-in limit of its address).
        if signed_in.elapsed() > std::time::Duration::from_secs(480) {
            token = crm_testkit::mint_role_token(&stack, &org, "owner").await;
            signed_in = std::time::Instant::now();
        }
        let (document, variables) = generator.operation();
        // Mostly through the router, as clients do; every fifth straight at a subgraph.
        let target = if n % 5 == 4 { &targets[1 + n / 5 % (targets.len() - 1)] } else { &targets[0] };
        let response = stack.post(target, Some(&token), &document, variables).await;
        *statuses.entry(response.status).or_default() += 1;
        if let Some(failure) = check(target, &document, response.status, &response.body) {
            failures.push(failure);
        }
    }
    // The stack still answers a plain query: nothing fell over.
    stack.router(Some(&token), "{ contacts(first: 1) { totalCount } }", json!({})).await.ok();
    let mut statuses: Vec<_> = statuses.into_iter().collect();
    statuses.sort();
    println!(
        "fuzz: seed {seed}, {count} operations, HTTP statuses {statuses:?}, {} failures",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {count} answers broke the rules:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
