//! CSV imports and exports through their links: every pathology of a real file with its exact
//! per-row report, duplicates, dry runs, company creation, custom fields, the size cap, single-use
//! tenant-bound links, and exports that neutralise formulas.

use crm_contact::imports::worker;
use crm_testkit::raw_http::{Framing, post_oversized};
use crm_testkit::{Org, TestStack, outbox_events};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::{company, contact, custom_field};

const CREATE: &str =
    "mutation($i: CreateContactImportInput!) { createContactImport(input: $i) { id status uploadUrl } }";
const READ: &str =
    "query($id: ID!) { contactImport(id: $id) { status total imported updated skipped failed error
    columns { header field } errors(first: 1000) { line column reason } } }";

/// Creates an import, uploads `body` to its link and returns (import id, upload status).
async fn upload(stack: &TestStack, org: &Org, options: Value, body: Vec<u8>) -> (String, u16) {
    let created = stack.subgraph("contact", Some(&org.token), CREATE, json!({ "i": options })).await;
    let created = created.ok()["createContactImport"].clone();
    assert_eq!(created["status"], "WAITING");
    let url = created["uploadUrl"].as_str().expect("upload url").to_owned();
    let response = reqwest::Client::new().put(&url).body(body).send().await.expect("upload");
    (created["id"].as_str().expect("id").to_owned(), response.status().as_u16())
}

/// Runs the import to its end here (the suite runs no background worker) and reads it.
async fn run(stack: &TestStack, org: &Org, id: &str) -> Value {
    let import = uuid::Uuid::parse_str(id).expect("uuid");
    let job = worker::claim_import(&stack.db, import).await.expect("claim").expect("a queued import");
    worker::process(&stack.db, Some(stack.services.kv.clone()), job, CancellationToken::new(), None)
        .await
        .expect("process");
    let read = stack.subgraph("contact", Some(&org.token), READ, json!({ "id": id })).await;
    read.ok()["contactImport"].clone()
}

fn accounted(import: &Value) {
    let sum: i64 =
        ["imported", "updated", "skipped", "failed"].iter().map(|k| import[k].as_i64().expect("count")).sum();
    assert_eq!(import["total"].as_i64(), Some(sum), "every row is accounted for: {import}");
}

#[tokio::test]
async fn every_row_of_a_pathological_file_is_imported_skipped_or_reported() {
    let stack = TestStack::subgraphs().await;
    let org = stack.register_org("Import pathologies").await;
    contact(&stack, &org, json!({ "firstName": "Existing", "email": "existing@example.com" })).await;
    let huge_row = format!("Wide,{}\r\n", ",".repeat(1_000_000));
    let mut file = Vec::new();
    file.extend_from_slice(b"\xEF\xBB\xBF");
    file.extend_from_slice(b"First Name,Last Name,Email,Company,Tags\r\n"); // line 1
    file.extend_from_slice(b"Ann,Lee,ann@example.com,Acme,vip;eu\r\n"); // 2: imported
    file.extend_from_slice(b"\"Multi\nLine\",Row,multi@example.com,Acme,\n"); // 3-4: imported (LF, quoted newline)
    file.extend_from_slice(b"Short,Row\r\n"); // 5: wrong column count
    file.extend_from_slice(b"Bad,Email,not-an-email,,\r\n"); // 6: bad email
    file.extend_from_slice(b"Ann,Again,ANN@example.com,,\r\n"); // 7: duplicate inside the file
    file.extend_from_slice(b"Old,Friend,existing@example.com,,\r\n"); // 8: duplicate of a contact
    file.extend_from_slice(huge_row.as_bytes()); // 9: a million columns
    file.extend_from_slice(b"\xff\xfe\x00garbage,\x80,x@example.com,,\r\n"); // 10: binary
    file.extend_from_slice(b",,,,\r\n"); // 11: empty
    file.extend_from_slice(b"Cid,Moss,cid@example.com,Globex,\r\n"); // 12: imported
    let (id, status) =
        upload(&stack, &org, json!({ "fileName": "people.csv", "dedupe": "SKIP" }), file).await;
    assert_eq!(status, 200);
    let import = run(&stack, &org, &id).await;
    assert_eq!(import["status"], "DONE", "{import}");
    assert_eq!(
        import["errors"],
        json!([
            { "line": 5, "column": null, "reason": "expected 5 columns, found 2" },
            { "line": 6, "column": "Email", "reason": "Email is not a valid email address" },
            { "line": 9, "column": null, "reason": "expected 5 columns, found 1000002" },
            { "line": 10, "column": "First Name", "reason": "not valid UTF-8" },
            { "line": 11, "column": null, "reason": "the row is empty" },
        ])
    );
    assert_eq!(
        (import["imported"].as_i64(), import["skipped"].as_i64(), import["failed"].as_i64()),
        (Some(3), Some(2), Some(5))
    );
    assert_eq!(import["total"], 10);
    accounted(&import);
    assert_eq!(import["columns"][4], json!({ "header": "Tags", "field": "tags" }));

    let list = stack.subgraph("contact", Some(&org.token), "{ contacts(orderBy: [{ field: FIRST_NAME }]) { edges { node { firstName lastName tags company { name } } } } }", json!({})).await;
    assert_eq!(
        list.ok()["contacts"]["edges"],
        json!([
            { "node": { "firstName": "Ann", "lastName": "Lee", "tags": ["vip", "eu"], "company": { "name": "Acme" } } },
            { "node": { "firstName": "Cid", "lastName": "Moss", "tags": [], "company": { "name": "Globex" } } },
            { "node": { "firstName": "Existing", "lastName": "", "tags": [], "company": null } },
            { "node": { "firstName": "Multi\nLine", "lastName": "Row", "tags": [], "company": { "name": "Acme" } } },
        ])
    );
    assert_eq!(
        outbox_events(&stack, &org.tenant_id, "contact.created").await.len(),
        4,
        "one event per imported row (and the fixture)"
    );
    assert_eq!(
        outbox_events(&stack, &org.tenant_id, "company.created").await.len(),
        2,
        "Acme once, Globex once"
    );

    // The same file again with SKIP imports nothing; the link of the first import is spent.
    let again = stack.subgraph("contact", Some(&org.token), READ, json!({ "id": id })).await;
    assert_eq!(again.ok()["contactImport"]["imported"], 3);
}

#[tokio::test]
async fn reuploads_skip_dry_runs_write_nothing_and_updates_carry_values() {
    let stack = TestStack::subgraphs().await;
    let org = stack.register_org("Import modes").await;
    custom_field(
        &stack,
        &org,
        json!({ "object": "CONTACT", "key": "budget", "label": "Budget", "type": "NUMBER" }),
    )
    .await;
    custom_field(
        &stack,
        &org,
        json!({ "object": "CONTACT", "key": "tier", "label": "Tier", "type": "SELECT",
        "options": [{ "value": "gold", "label": "Gold" }] }),
    )
    .await;
    let acme = company(&stack, &org, json!({ "name": "Acme Corp", "domain": "acme.example" })).await;
    let file = "name;email;budget;tier;domain;notes\nAnn Lee;ann@example.com;1200;Gold;acme.example;'=SUM(A1)\nBo Park;bo@example.com;twelve;;;\nNo Mail;;5;;acme.example;\n".as_bytes().to_vec();

    let (dry, _) = upload(&stack, &org, json!({ "fileName": "a.csv", "dryRun": true }), file.clone()).await;
    let dry = run(&stack, &org, &dry).await;
    assert_eq!((dry["imported"].as_i64(), dry["failed"].as_i64()), (Some(2), Some(1)), "{dry}");
    assert_eq!(
        dry["errors"],
        json!([{ "line": 3, "column": "budget", "reason": "Budget must be a number" }])
    );
    let count = stack.subgraph("contact", Some(&org.token), "{ contacts { totalCount } }", json!({})).await;
    assert_eq!(count.ok()["contacts"]["totalCount"], 0, "a dry run writes nothing");

    let (first, _) = upload(&stack, &org, json!({ "fileName": "a.csv" }), file.clone()).await;
    let first = run(&stack, &org, &first).await;
    assert_eq!((first["imported"].as_i64(), first["failed"].as_i64()), (Some(2), Some(1)));
    let ann = stack.subgraph("contact", Some(&org.token), "{ contacts(filter: { email: { eq: \"ann@example.com\" } }) { edges { node { id notes customFields company { id } } } } }", json!({})).await;
    let ann = ann.ok()["contacts"]["edges"][0]["node"].clone();
    assert_eq!(ann["customFields"], json!({ "budget": 1200.0, "tier": "gold" }));
    assert_eq!(ann["company"]["id"], acme, "the company found by its domain");
    assert_eq!(ann["notes"], "=SUM(A1)", "an exported formula guard is taken off again");

    let (second, _) =
        upload(&stack, &org, json!({ "fileName": "a.csv", "dedupe": "SKIP" }), file.clone()).await;
    let second = run(&stack, &org, &second).await;
    assert_eq!(
        (second["imported"].as_i64(), second["skipped"].as_i64()),
        (Some(0), Some(2)),
        "the same file twice imports nothing: {second}"
    );

    let changed = "name,email,budget\nAnn Lee,ann@example.com,1500\n".as_bytes().to_vec();
    let (update, _) = upload(&stack, &org, json!({ "fileName": "b.csv", "dedupe": "UPDATE" }), changed).await;
    let update = run(&stack, &org, &update).await;
    assert_eq!(update["updated"], 1);
    let events = outbox_events(&stack, &org.tenant_id, "contact.updated").await;
    assert_eq!(
        events.last().expect("an update")["data"]["changes"]["custom_fields.budget"],
        json!({ "previous": 1200.0, "new": 1500.0 })
    );
}

#[tokio::test]
async fn links_are_single_use_bounded_and_bound_to_their_organization() {
    let stack = TestStack::subgraphs().await;
    let org = stack.register_org("Import links").await;
    let other = stack.register_org("Import links other").await;
    let created =
        stack.subgraph("contact", Some(&org.token), CREATE, json!({ "i": { "fileName": "x.csv" } })).await;
    let created = created.ok()["createContactImport"].clone();
    let url = created["uploadUrl"].as_str().expect("url").to_owned();
    let id = created["id"].as_str().expect("id").to_owned();
    let http = reqwest::Client::new();
    assert_eq!(http.put(&url).body("first\nAnn\n").send().await.expect("upload").status(), 200);
    assert_eq!(
        http.put(&url).body("first\nEve\n").send().await.expect("again").status(),
        404,
        "a link works once"
    );
    let forged = format!("{}x", url);
    assert_eq!(http.put(&forged).body("first\nEve\n").send().await.expect("forged").status(), 404);

    let foreign = stack.subgraph("contact", Some(&other.token), READ, json!({ "id": id })).await;
    assert_eq!(foreign.error_codes(), ["NOT_FOUND"], "another organization cannot read the import");
    assert!(
        worker::claim_import(&stack.db, uuid::Uuid::parse_str(&id).expect("uuid"))
            .await
            .expect("claim")
            .is_some()
    );
    let viewer = crm_testkit::mint_role_token(&stack, &org, "viewer").await;
    let refused =
        stack.subgraph("contact", Some(&viewer), CREATE, json!({ "i": { "fileName": "x.csv" } })).await;
    assert_eq!(refused.error_codes(), ["FORBIDDEN"]);
    let bad_mapping = stack
        .subgraph(
            "contact",
            Some(&org.token),
            CREATE,
            json!({ "i": { "fileName": "x.csv", "mapping": { "A": "nonsense" } } }),
        )
        .await;
    assert_eq!(bad_mapping.error_codes(), ["BAD_USER_INPUT"]);

    // Over 100 MB: refused up front when the length is declared, while reading when it is not.
    for framing in [Framing::ContentLength, Framing::Chunked] {
        let created = stack
            .subgraph("contact", Some(&org.token), CREATE, json!({ "i": { "fileName": "big.csv" } }))
            .await;
        let created = created.ok()["createContactImport"].clone();
        let status =
            post_oversized(created["uploadUrl"].as_str().expect("url"), 100 * 1024 * 1024 + 1, framing).await;
        assert_eq!(status, 413, "{framing:?}");
        let read = stack.subgraph("contact", Some(&org.token), READ, json!({ "id": created["id"] })).await;
        assert_eq!(read.ok()["contactImport"]["status"], "FAILED");
        assert_eq!(read.ok()["contactImport"]["error"], "the file is larger than 100 MB");
    }
    let leftovers = stack.count_in(&org, "SELECT count(*) FROM contact_import_chunks c JOIN contact_imports i ON i.id = c.import_id WHERE i.status = 'failed'", vec![]).await;
    assert_eq!(leftovers, 0, "a refused file leaves nothing behind");

    // An empty file fails as a whole, with the reason.
    let (empty, _) = upload(&stack, &org, json!({ "fileName": "empty.csv" }), Vec::new()).await;
    let empty = run(&stack, &org, &empty).await;
    assert_eq!(empty["status"], "FAILED");
    assert!(empty["error"].as_str().expect("error").starts_with("the file is empty"));
    let (headless, _) =
        upload(&stack, &org, json!({ "fileName": "x.csv" }), b"Favourite colour\nblue\n".to_vec()).await;
    let headless = run(&stack, &org, &headless).await;
    assert!(
        headless["error"].as_str().expect("error").starts_with("no column holds the first name"),
        "{headless}"
    );
}

#[tokio::test]
async fn exports_stream_filtered_rows_with_formulas_neutralised() {
    let stack = TestStack::subgraphs().await;
    let org = stack.register_org("Exports").await;
    let other = stack.register_org("Exports other").await;
    custom_field(
        &stack,
        &org,
        json!({ "object": "CONTACT", "key": "budget", "label": "Budget", "type": "NUMBER" }),
    )
    .await;
    contact(
        &stack,
        &org,
        json!({ "firstName": "=HYPERLINK(\"x\")", "lastName": "@SUM", "phone": "+1 555 0100", "tags": ["vip"],
        "jobTitle": "-2", "notes": "line one\nline two", "customFields": { "budget": 7 } }),
    )
    .await;
    contact(&stack, &org, json!({ "firstName": "Plain", "tags": ["eu"] })).await;
    contact(&stack, &other, json!({ "firstName": "Secret" })).await;

    let export = "mutation($f: ContactFilter, $c: [String!]) { exportContacts(filter: $f, columns: $c) { downloadUrl columns } }";
    let created = stack
        .subgraph(
            "contact",
            Some(&org.token),
            export,
            json!({ "f": { "tags": { "hasAny": ["vip"] } },
        "c": ["firstName", "lastName", "phone", "jobTitle", "notes", "tags", "custom:budget"] }),
        )
        .await;
    let url = created.ok()["exportContacts"]["downloadUrl"].as_str().expect("url").to_owned();
    let response = reqwest::get(&url).await.expect("download");
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-disposition"].to_str().expect("header").starts_with("attachment"));
    let body = response.bytes().await.expect("body");
    let mut reader =
        csv::Reader::from_reader(body.strip_prefix(b"\xEF\xBB\xBF").expect("a BOM for spreadsheets"));
    let rows: Vec<Vec<String>> =
        reader.records().map(|r| r.expect("row").iter().map(str::to_owned).collect()).collect();
    assert_eq!(
        reader.headers().expect("headers").iter().collect::<Vec<_>>(),
        ["firstName", "lastName", "phone", "jobTitle", "notes", "tags", "custom:budget"]
    );
    assert_eq!(
        rows,
        [["'=HYPERLINK(\"x\")", "'@SUM", "'+1 555 0100", "'-2", "line one\nline two", "vip", "7"]]
    );
    assert_eq!(reqwest::get(&url).await.expect("again").status(), 404, "a download link works once");

    let all = stack
        .subgraph(
            "contact",
            Some(&other.token),
            "mutation { exportContacts { downloadUrl columns } }",
            json!({}),
        )
        .await;
    let other_url = all.ok()["exportContacts"]["downloadUrl"].as_str().expect("url").to_owned();
    let text = reqwest::get(&other_url).await.expect("download").text().await.expect("text");
    assert!(text.contains("Secret") && !text.contains("Plain") && !text.contains("HYPERLINK"), "{text}");
    let bad = stack
        .subgraph(
            "contact",
            Some(&org.token),
            "mutation { exportContacts(columns: [\"password\"]) { downloadUrl } }",
            json!({}),
        )
        .await;
    assert_eq!(bad.error_codes(), ["BAD_USER_INPUT"]);
    let viewer = crm_testkit::mint_role_token(&stack, &org, "viewer").await;
    stack
        .subgraph("contact", Some(&viewer), "mutation { exportContacts { downloadUrl } }", json!({}))
        .await
        .ok();
}
