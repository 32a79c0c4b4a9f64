//! `crm seed --demo`: an organization a newcomer can sign in to, filled through the running
//! product's API like any client would (so events, roll-ups and timelines are real): companies
//! in a hierarchy, a few hundred contacts, deals over two pipelines and every stage (some won,
//! some lost), activities, tasks and templates. Then the deals' history is spread over the past
//! months in the database, so the analytics have something to show, and the roll-ups rebuilt.

use std::process::ExitCode;

use anyhow::{Context, bail};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

const API: &str = "http://127.0.0.1:4000/graphql";
const FIRST: [&str; 24] = [
    "Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Kemal", "Lena",
    "Marco", "Nora", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tara", "Uma", "Victor", "Wen", "Yusuf",
];
const LAST: [&str; 20] = [
    "Lee",
    "Novak",
    "Costa",
    "Berg",
    "Okafor",
    "Tanaka",
    "Schmidt",
    "Garcia",
    "Rossi",
    "Dubois",
    "Jensen",
    "Kowalski",
    "Larsen",
    "Moreau",
    "Nakamura",
    "Petrov",
    "Santos",
    "Weber",
    "Xu",
    "Zimmermann",
];
const TITLES: [&str; 8] = [
    "CEO",
    "CTO",
    "Head of Sales",
    "Procurement",
    "Engineering Manager",
    "Operations",
    "CFO",
    "Marketing Lead",
];
const GROUPS: [&str; 6] = ["Northwind", "Globex", "Initech", "Umbrella", "Stark", "Wayne"];
const UNITS: [&str; 4] = ["Labs", "Retail", "Logistics", "Health"];

fn pick<'a>(rng: &mut StdRng, from: &[&'a str]) -> &'a str {
    from[rng.gen_range(0..from.len())]
}

struct Api {
    http: reqwest::Client,
    url: String,
    token: Option<String>,
}

impl Api {
    async fn call(&self, query: &str, variables: Value) -> anyhow::Result<Value> {
        let mut request = self.http.post(&self.url).json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let body: Value =
            request.send().await.context("the API is not answering: is `crm up` running?")?.json().await?;
        if let Some(errors) = body.get("errors") {
            bail!("{errors}");
        }
        Ok(body["data"].clone())
    }

    async fn id(&self, query: &str, variables: Value) -> anyhow::Result<String> {
        let data = self.call(query, variables).await?;
        let (_, created) = data.as_object().and_then(|o| o.iter().next()).context("no result")?;
        Ok(created["id"].as_str().context("no id")?.to_owned())
    }
}

pub async fn demo(subdomain: Option<String>) -> ExitCode {
    match run(subdomain).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(subdomain: Option<String>) -> anyhow::Result<()> {
    let config = crm_platform::Config::from_env()?;
    let url = std::env::var("CRM_API_URL").unwrap_or_else(|_| API.to_owned());
    let mut api = Api { http: reqwest::Client::new(), url, token: None };
    let mut rng = StdRng::from_entropy();
    let subdomain = subdomain.unwrap_or_else(|| format!("demo-{}", rng.gen_range(1000..9999)));
    let email = format!("owner@{subdomain}.example.com");
    let password: String =
        (0..4).map(|_| format!("{:04}", rng.gen_range(0..10_000))).collect::<Vec<_>>().join("-");
    println!("Creating the organization {subdomain}…");
    let registered = api
        .call(
            "mutation($i: RegisterOrganizationInput!) { registerOrganization(input: $i) { tenant { id } } }",
            json!({ "i": { "name": "Demo Company", "subdomain": subdomain,
                "owner": { "email": email, "password": password, "name": "Dana Demo" } } }),
        )
        .await?;
    let tenant = registered["registerOrganization"]["tenant"]["id"].as_str().context("tenant")?.to_owned();
    let login = api
        .call(
            "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
            json!({ "i": { "email": email, "password": password, "subdomain": subdomain } }),
        )
        .await?;
    api.token = Some(login["login"]["accessToken"].as_str().context("token")?.to_owned());

    let companies = companies(&api).await?;
    println!("  {} companies", companies.len());
    let contacts = contacts(&api, &companies, &mut rng).await?;
    println!("  {} contacts", contacts.len());
    let deals = deals(&api, &companies, &contacts, &mut rng).await?;
    println!("  {deals} deals over two pipelines");
    let logged = activities_and_tasks(&api, &contacts, &mut rng).await?;
    println!("  {logged} activities and tasks, 3 email templates");
    spread_history(&config.database_url, &tenant).await?;
    println!();
    println!("Sign in at http://localhost:3000 with:");
    println!("  organization  {subdomain}");
    println!("  email         {email}");
    println!("  password      {password}");
    Ok(())
}

async fn companies(api: &Api) -> anyhow::Result<Vec<String>> {
    const CREATE: &str = "mutation($i: CreateCompanyInput!) { createCompany(input: $i) { id } }";
    let mut ids = Vec::new();
    for group in GROUPS {
        let domain = format!("{}.example", group.to_lowercase());
        let parent =
            api.id(CREATE, json!({ "i": { "name": format!("{group} Group"), "domain": domain } })).await?;
        ids.push(parent.clone());
        for unit in UNITS {
            let child = json!({ "i": { "name": format!("{group} {unit}"), "parentId": parent,
                "domain": format!("{}.{domain}", unit.to_lowercase()) } });
            ids.push(api.id(CREATE, child).await?);
        }
    }
    Ok(ids)
}

async fn contacts(api: &Api, companies: &[String], rng: &mut StdRng) -> anyhow::Result<Vec<String>> {
    const CREATE: &str =
        "mutation($i: [CreateContactInput!]!) { createContacts(inputs: $i) { contact { id } } }";
    let mut ids = Vec::new();
    for batch in 0..3 {
        let inputs: Vec<Value> = (0..100)
            .map(|n| {
                let first = FIRST[rng.gen_range(0..FIRST.len())];
                let last = LAST[rng.gen_range(0..LAST.len())];
                let number = batch * 100 + n;
                json!({
                    "firstName": first, "lastName": last,
                    "email": format!("{}.{}{number}@example.com", first.to_lowercase(), last.to_lowercase()),
                    "jobTitle": TITLES[rng.gen_range(0..TITLES.len())],
                    "companyId": companies[rng.gen_range(0..companies.len())],
                    "lifecycleStage": pick(rng, &["LEAD", "PROSPECT", "CUSTOMER"]),
                    "tags": if rng.gen_bool(0.2) { json!(["vip"]) } else { json!([]) },
                })
            })
            .collect();
        let created = api.call(CREATE, json!({ "i": inputs })).await?;
        for result in created["createContacts"].as_array().context("results")? {
            if let Some(id) = result["contact"]["id"].as_str() {
                ids.push(id.to_owned());
            }
        }
    }
    Ok(ids)
}

async fn deals(
    api: &Api,
    companies: &[String],
    contacts: &[String],
    rng: &mut StdRng,
) -> anyhow::Result<usize> {
    let partnerships = api
        .call(
            "mutation($i: CreatePipelineInput!) { createPipeline(input: $i) { id } }",
            json!({ "i": { "name": "Partnerships", "stages": [
                { "name": "Intro", "kind": "OPEN", "probability": 10 },
                { "name": "Pilot", "kind": "OPEN", "probability": 40 },
                { "name": "Contract", "kind": "OPEN", "probability": 75 },
                { "name": "Signed", "kind": "WON" },
                { "name": "Declined", "kind": "LOST" } ] } }),
        )
        .await?;
    let partnerships = partnerships["createPipeline"]["id"].as_str().context("pipeline")?.to_owned();
    let pipelines = api.call("{ pipelines { id isDefault stages { id kind } } }", json!({})).await?;
    let mut count = 0;
    for pipeline in pipelines["pipelines"].as_array().context("pipelines")? {
        let id = pipeline["id"].as_str().unwrap_or_default();
        let stages = pipeline["stages"].as_array().context("stages")?;
        let open: Vec<&str> =
            stages.iter().filter(|s| s["kind"] == "OPEN").filter_map(|s| s["id"].as_str()).collect();
        let deals = if id == partnerships { 40 } else { 80 };
        for n in 0..deals {
            let contact_count = rng.gen_range(1..=2);
            let picked: Vec<&String> =
                (0..contact_count).map(|_| &contacts[rng.gen_range(0..contacts.len())]).collect();
            let month = rng.gen_range(0..6);
            let close_date =
                (chrono::Utc::now() + chrono::Duration::days(30 * month + rng.gen_range(0..28))).date_naive();
            let input = json!({ "i": {
                "title": format!("{} — {}", ["Platform licence", "Support plan", "Pilot", "Expansion", "Renewal"][n % 5], n + 1),
                "pipelineId": id, "amount": format!("{}", rng.gen_range(5..200) * 500),
                "currency": if rng.gen_bool(0.15) { "EUR" } else { "USD" },
                "companyId": companies[rng.gen_range(0..companies.len())],
                "contactIds": picked, "expectedCloseDate": close_date.to_string() } });
            let deal =
                api.id("mutation($i: CreateDealInput!) { createDeal(input: $i) { id } }", input).await?;
            // Walk it some way along the pipeline, then maybe close it.
            let steps = rng.gen_range(0..open.len());
            for stage in open.iter().skip(1).take(steps) {
                api.call(
                    "mutation($id: ID!, $s: ID!) { moveDeal(id: $id, stageId: $s) { id } }",
                    json!({ "id": deal, "s": stage }),
                )
                .await?;
            }
            let outcome = match rng.gen_range(0..10) {
                0..=2 => Some(("WON", None)),
                3..=4 => {
                    Some(("LOST", Some(["Price", "Timing", "Went with a competitor"][rng.gen_range(0..3)])))
                }
                _ => None,
            };
            if let Some((outcome, reason)) = outcome {
                api.call(
                    "mutation($id: ID!, $o: DealOutcome!, $r: String) { closeDeal(id: $id, outcome: $o, lostReason: $r) { id } }",
                    json!({ "id": deal, "o": outcome, "r": reason }),
                )
                .await?;
            }
            count += 1;
        }
    }
    Ok(count)
}

async fn activities_and_tasks(api: &Api, contacts: &[String], rng: &mut StdRng) -> anyhow::Result<usize> {
    let mut count = 0;
    for _ in 0..150 {
        let kind = ["NOTE", "CALL", "EMAIL", "MEETING"][rng.gen_range(0..4)];
        let at = chrono::Utc::now() - chrono::Duration::hours(rng.gen_range(1..24 * 180));
        let subject = match kind {
            "CALL" => "Discovery call",
            "MEETING" => "Quarterly review",
            "EMAIL" => "Sent the proposal",
            _ => "Notes from the last conversation",
        };
        api.call(
            "mutation($i: LogActivityInput!) { logActivity(input: $i) { id } }",
            json!({ "i": { "type": kind, "subject": subject, "occurredAt": at,
                "contactId": contacts[rng.gen_range(0..contacts.len())],
                "durationMinutes": if kind == "CALL" || kind == "MEETING" { json!(30) } else { Value::Null } } }),
        )
        .await?;
        count += 1;
    }
    for n in 0..40 {
        let due = chrono::Utc::now() + chrono::Duration::hours(rng.gen_range(-24 * 10..24 * 20));
        api.call(
            "mutation($i: CreateTaskInput!) { createTask(input: $i) { id } }",
            json!({ "i": { "title": format!("Follow up #{}", n + 1), "dueAt": due,
                "priority": pick(rng, &["LOW", "NORMAL", "HIGH", "URGENT"]),
                "contactId": contacts[rng.gen_range(0..contacts.len())] } }),
        )
        .await?;
        count += 1;
    }
    for (name, subject, text) in [
        (
            "Introduction",
            "Nice to meet you, {{ contact.first_name }}",
            "Hello {{ contact.first_name }},\n\nthanks for your time today. — {{ sender.name }}",
        ),
        (
            "Proposal",
            "Our proposal for {{ company.name }}",
            "Hello {{ contact.first_name }},\n\nattached is our proposal for {{ deal.title }}.",
        ),
        (
            "Thank you",
            "Welcome aboard, {{ contact.first_name }}",
            "Thank you for choosing {{ organization.name }}!",
        ),
    ] {
        api.call(
            "mutation($i: CreateEmailTemplateInput!) { createEmailTemplate(input: $i) { id } }",
            json!({ "i": { "name": name, "subject": subject, "text": text } }),
        )
        .await?;
    }
    Ok(count)
}

/// Moves each deal's history back in time: created 1–9 months ago, its stage changes spread
/// between then and now, closed deals closed at their last change; then the roll-ups rebuilt.
async fn spread_history(database_url: &str, tenant: &str) -> anyhow::Result<()> {
    use sea_orm::{ConnectionTrait, Database, TransactionTrait};
    let db = Database::connect(database_url).await?;
    let tx = db.begin().await?;
    let schema = format!("tenant_{}", tenant.replace('-', ""));
    tx.execute_unprepared(&format!("SELECT set_config('search_path', '{schema}', true)")).await?;
    tx.execute_unprepared(
        "WITH shift AS (
             SELECT id, (interval '1 day') * (30 + floor(random() * 240)) AS back FROM deals
         ), ranked AS (
             SELECT c.id, c.deal_id, s.back,
                    row_number() OVER (PARTITION BY c.deal_id ORDER BY c.changed_at, c.id) AS n,
                    count(*) OVER (PARTITION BY c.deal_id) AS total
             FROM deal_stage_changes c JOIN shift s ON s.id = c.deal_id
         )
         UPDATE deal_stage_changes c
         SET changed_at = now() - r.back + (r.back * 0.9) * (r.n - 1) / greatest(r.total - 1, 1)
         FROM ranked r WHERE r.id = c.id;
         UPDATE deal_stage_changes c SET from_entered_at = p.changed_at
         FROM (SELECT id, lag(changed_at) OVER (PARTITION BY deal_id ORDER BY changed_at, id) AS changed_at
               FROM deal_stage_changes) p
         WHERE p.id = c.id AND c.from_stage_id IS NOT NULL;
         UPDATE deals d SET created_at = h.first, stage_entered_at = h.last,
                closed_at = CASE WHEN d.closed_at IS NOT NULL THEN h.last END, updated_at = h.last
         FROM (SELECT deal_id, min(changed_at) AS first, max(changed_at) AS last
               FROM deal_stage_changes GROUP BY deal_id) h
         WHERE h.deal_id = d.id;
         SELECT deal_rollups_rebuild();",
    )
    .await
    .context("spreading the deals' history")?;
    tx.commit().await?;
    Ok(())
}
