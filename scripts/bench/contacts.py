#!/usr/bin/env python3
"""Contacts at 100,000: import, filtered pages, search and export, straight at the contact subgraph.

Usage: scripts/bench/contacts.py [ROWS]          (default 100000)

Builds nothing: it runs the release binaries of the auth, tenant and contact subgraphs from
BIN_DIR (default: $CARGO_TARGET_DIR/release or target/release; build them with
`cargo build --release -p crm-auth -p crm-tenant -p crm-contact`) and `crm migrate` from CRM_BIN
(default: the debug build), on a database of its own (dropped at the end) and ports 18080-18082,
against PostgreSQL, NATS and Redis on their usual local ports. Prints:

  1. the import of a CSV with ROWS rows (10 columns, 2 custom fields, 1% bad rows), timed from
     createContactImport to DONE, and the contact subgraph's peak RSS growth over it;
  2. p50/p95 of a filtered, sorted first page (a custom field, a tag and a company relation
     filter, sorted by the custom field), of a typo-tolerant search, and of the plain first page;
  3. the export of all rows, streamed: time, size and RSS growth;
  4. EXPLAIN ANALYZE of the filtered page's statement.

BENCH_CONTACT_ONLY=1 stops the auth and tenant subgraphs once the organization is set up, so the
contact subgraph (and its one outbox relay) runs alone. BENCH_IMPORT_ONLY=1 stops after the import;
BENCH_KEEP=1 keeps the database (and prints its name) for a closer look.
"""
import csv
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

# Only when this file is the benchmark: other benchmarks import it for its helpers and have
# arguments of their own.
ROWS = int(sys.argv[1]) if __name__ == "__main__" and len(sys.argv) > 1 else 100_000
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
BIN_DIR = os.environ.get("BIN_DIR", os.path.join(TARGET, "release"))
CRM_BIN = os.environ.get("CRM_BIN", os.path.join(TARGET, "debug", "crm"))
PG = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
DB = "crm_bench_" + uuid.uuid4().hex[:8]
PORTS = {"auth": 18080, "tenant": 18081, "contact": 18082}
SAMPLES = 200


def url(subgraph):
    return f"http://127.0.0.1:{PORTS[subgraph]}/graphql"


def call(subgraph, query, variables=None, token=None):
    headers = {"content-type": "application/json", "x-forwarded-for": f"10.9.{random.randint(0, 255)}.{random.randint(1, 254)}"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    with urllib.request.urlopen(urllib.request.Request(url(subgraph), body, headers)) as response:
        result = json.load(response)
    if result.get("errors"):
        sys.exit(f"GraphQL error: {result['errors']}")
    return result["data"]


def kib(pid, field):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def reset_peak(pid):
    # Writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0).
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def percentiles(samples):
    samples = sorted(samples)
    return samples[len(samples) // 2], samples[int(len(samples) * 0.95) - 1]


def start(env):
    processes = {}
    for name in PORTS:
        binary = os.path.join(BIN_DIR, f"crm-{name}")
        if not os.path.exists(binary):
            sys.exit(f"{binary} is missing: cargo build --release -p crm-auth -p crm-tenant -p crm-contact")
        processes[name] = subprocess.Popen([binary], env={**env, "PORT": str(PORTS[name])})
    for name in PORTS:
        wait_live(name)
    return processes


def wait_live(name):
    for _ in range(400):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORTS[name]}/health/live", timeout=1)
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"the {name} subgraph did not start")


FIRST = ["Ann", "Bob", "Cid", "Dee", "Eve", "Finn", "Gus", "Hana", "Ivo", "Jana", "Karl", "Lena", "Mia", "Nils",
         "Olga", "Piet", "Quinn", "Rosa", "Sven", "Tara", "Uma", "Vito", "Wren", "Xena", "Yusuf", "Zoe", "Aiko",
         "Bruno", "Carla", "Dario", "Elif", "Femi", "Greta", "Hugo", "Ines", "Jonas", "Kemal", "Lucia", "Marek", "Nadia"]
LAST = ["Lee", "Stone", "Moss", "Park", "Smith", "Novak", "Berg", "Costa", "Dubois", "Ekström", "Fischer", "Garcia",
        "Horvat", "Ivanova", "Jensen", "Kowalski", "Larsen", "Müller", "Nakamura", "Okafor", "Petrov", "Quispe",
        "Rossi", "Schmidt", "Tanaka", "Urban", "Varga", "Weber", "Xu", "Yilmaz", "Zhang", "Andersen", "Bauer",
        "Castro", "Dvorak", "Esposito", "Ferreira", "Gruber", "Hoffmann", "Ito", "Jovanovic", "Keller", "Lindqvist",
        "Moreau", "Nowak", "Olsen", "Popescu", "Quinn", "Richter", "Santos", "Toth", "Unger", "Vogel", "Wagner",
        "Yamamoto", "Zimmermann", "Alves", "Brandt", "Cerny", "Dahl"]
# One letter pair swapped: what people mistype.
TYPOS = ["Novka", "Cotsa", "Fishcer", "Horavt", "Jnesen", "Kowlaski", "Rosis", "Tnaaka", "Vrgaa", "Wganer"]


def write_csv(path):
    stages = ["lead", "prospect", "customer", "churned", "other"]
    tags = ["vip", "eu", "us", "partner", "newsletter"]
    with open(path, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["First name", "Last name", "Email", "Phone", "Job title", "Company", "Tags", "Stage", "Score", "Tier"])
        rng = random.Random(7)
        for n in range(ROWS):
            email = f"person{n}@example.com" if n % 100 != 99 else f"person{n}-at-example"
            writer.writerow([
                rng.choice(FIRST),
                rng.choice(LAST),
                email,
                f"+1 555 {n:07d}",
                rng.choice(["CTO", "Engineer", "Buyer", "Founder", "Analyst"]),
                f"Company {n % 1000}",
                ";".join(rng.sample(tags, 2)),
                rng.choice(stages),
                str(rng.randint(0, 100)),
                rng.choice(["Gold", "Silver", "Bronze"]),
            ])


def timed(samples, query, variables, token, subgraph="contact"):
    latencies = []
    for n in range(samples):
        started = time.perf_counter()
        call(subgraph, query, variables(n), token)
        latencies.append((time.perf_counter() - started) * 1000)
    return percentiles(latencies)


FILTERED = """query($first: Int) { contacts(first: $first,
    filter: { customFields: [{ key: "score", gte: 50 }], tags: { hasAny: ["vip"] },
              company: { name: { startsWith: "Company 1" } } },
    orderBy: [{ customField: "score", direction: DESC }]) {
    edges { node { id firstName lastName email customFields company { name } } } } }"""
SEARCH = """query($q: String!) { contacts(first: 20, filter: { search: $q }) { edges { node { id firstName lastName } } } }"""
PLAIN = """query { contacts(first: 20) { edges { node { id firstName lastName email } } } }"""


def main():
    env = {**os.environ, "DATABASE_URL": f"{PG}/{DB}", "JWKS_URL": f"http://127.0.0.1:{PORTS['auth']}/.well-known/jwks.json",
           "FILES_BASE_URL": f"http://127.0.0.1:{PORTS['contact']}", "LOG_LEVEL": "warn"}
    subprocess.run([CRM_BIN, "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
    processes = start(env)
    try:
        run(processes, env)
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.terminate()
                process.wait()
        finish_database(DB)


def finish_database(name):
    """Drops the benchmark's database, unless BENCH_KEEP asks to keep it for a look."""
    if os.environ.get("BENCH_KEEP"):
        print(f"== database {name} kept")
    else:
        subprocess.run(["psql", f"{PG}/postgres", "-qc", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], check=False)


def run(processes, env):
    subdomain = "bench-" + uuid.uuid4().hex[:10]
    email, password = f"owner@{subdomain}.example.com", "benchmark password"
    tenant = call("tenant", "mutation($i: RegisterOrganizationInput!) { registerOrganization(input: $i) { tenant { id } } }",
                  {"i": {"name": "Bench", "subdomain": subdomain, "owner": {"email": email, "password": password, "name": "Bench"}}})
    tenant_id = tenant["registerOrganization"]["tenant"]["id"]
    token = call("auth", "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
                 {"i": {"email": email, "password": password, "subdomain": subdomain}})["login"]["accessToken"]
    for field in ({"object": "CONTACT", "key": "score", "label": "Score", "type": "NUMBER"},
                  {"object": "CONTACT", "key": "tier", "label": "Tier", "type": "SELECT",
                   "options": [{"value": v, "label": v.title()} for v in ("gold", "silver", "bronze")]}):
        call("contact", "mutation($i: CreateCustomFieldInput!) { createCustomField(input: $i) { id } }", {"i": field}, token)

    if os.environ.get("BENCH_CONTACT_ONLY"):
        # Only the contact subgraph (and its one outbox relay) left running; tokens stay valid.
        for name in ("auth", "tenant"):
            processes[name].terminate()
            processes[name].wait()
    import_rows(processes, token)
    if os.environ.get("BENCH_IMPORT_ONLY"):
        return
    export_and_explain(processes, token, tenant_id)


def import_rows(processes, token):
    pid = processes["contact"].pid
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "contacts.csv")
        write_csv(path)
        size = os.path.getsize(path)
        rss_before = kib(pid, "VmRSS")
        peak_reset = reset_peak(pid)
        started = time.perf_counter()
        created = call("contact", "mutation { createContactImport(input: { fileName: \"contacts.csv\" }) { id uploadUrl } }", None, token)
        created = created["createContactImport"]
        with open(path, "rb") as body:
            request = urllib.request.Request(created["uploadUrl"], body, {"content-length": str(size)}, method="PUT")
            urllib.request.urlopen(request).read()
        uploaded = time.perf_counter()
        while True:
            state = call("contact", "query($id: ID!) { contactImport(id: $id) { status total imported skipped failed error } }",
                         {"id": created["id"]}, token)["contactImport"]
            if state["status"] in ("DONE", "FAILED"):
                break
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        peak = kib(pid, "VmHWM")
    print(f"== import of {ROWS} rows ({size / 1e6:.1f} MB, 10 columns, 2 custom fields, 1% bad)")
    print(f"   {state['status']}: {state['imported']} imported, {state['skipped']} skipped, {state['failed']} reported, {state['total']} read")
    print(f"   upload {uploaded - started:.2f} s, upload to done {elapsed:.2f} s ({ROWS / elapsed:,.0f} rows/s)")
    print(f"   contact subgraph RSS {rss_before / 1024:.0f} MB before; peak {peak / 1024:.0f} MB "
          f"(growth {(peak - rss_before) / 1024:.0f} MB{'' if peak_reset else ', peak since start'})")

    if os.environ.get("BENCH_IMPORT_ONLY"):
        return
    # The import queued one contact.created per row; the outbox relays publish them meanwhile.
    # Queries are measured both while they do and once the outbox is empty.
    started = time.perf_counter()
    measure_queries(f"while the relays publish the import's {state['imported']} events", token)
    pending = -1
    while time.perf_counter() - started < 600:
        pending = int(subprocess.run(["psql", f"{PG}/{DB}", "-qAtc", "SELECT count(*) FROM crm.outbox WHERE published_at IS NULL"],
                                     capture_output=True, text=True).stdout.strip() or -1)
        if pending == 0:
            break
        time.sleep(1)
    print(f"== outbox drained {time.perf_counter() - started:.0f} s after the import ended ({pending} left)")
    measure_queries("with the outbox empty", token)


def measure_queries(when, token):
    print(f"== queries at {ROWS * 99 // 100} contacts, {when}; {SAMPLES} sequential requests each, straight at the contact subgraph")
    timed(20, PLAIN, lambda n: {}, token)  # warm-up
    for label, query, variables in (
        ("first page, newest first", PLAIN, lambda n: {}),
        ("filtered + sorted page (custom field, tag, company relation)", FILTERED, lambda n: {"first": 20 + n % 5}),
        ("search, a last name with a typo (fuzzy)", SEARCH, lambda n: {"q": TYPOS[n % len(TYPOS)]}),
        ("search, a full name", SEARCH, lambda n: {"q": f"{FIRST[n % len(FIRST)]} {LAST[n % len(LAST)]}"}),
        ("search, an email", SEARCH, lambda n: {"q": f"person{n * 397 % ROWS}@example.com"}),
    ):
        p50, p95 = timed(SAMPLES, query, variables, token)
        print(f"   {label}: p50 {p50:.1f} ms, p95 {p95:.1f} ms")


def export_and_explain(processes, token, tenant_id):
    pid = processes["contact"].pid
    rss_before = kib(pid, "VmRSS")
    peak_reset = reset_peak(pid)
    started = time.perf_counter()
    export = call("contact", "mutation { exportContacts { downloadUrl } }", None, token)["exportContacts"]
    total, lines = 0, 0
    with urllib.request.urlopen(export["downloadUrl"]) as response:
        while True:
            chunk = response.read(1 << 16)
            if not chunk:
                break
            total += len(chunk)
            lines += chunk.count(b"\n")
    elapsed = time.perf_counter() - started
    peak = kib(pid, "VmHWM")
    print(f"== export of all contacts, streamed: {total / 1e6:.1f} MB, ~{lines} lines in {elapsed:.2f} s; "
          f"RSS {rss_before / 1024:.0f} MB before, peak {peak / 1024:.0f} MB (growth {(peak - rss_before) / 1024:.0f} MB)")

    schema = "tenant_" + tenant_id.replace("-", "")
    explain = f"""
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
SELECT c.*, to_json((c.custom_fields->>'score')::numeric)#>>'{{}}' AS sort_0 FROM contacts c
WHERE c.deleted_at IS NULL AND ((((c.custom_fields->>'score')::numeric >= '50'::numeric))
  AND (c.tags && '{{vip}}'::text[])
  AND (c.company_id IN (SELECT co1.id FROM companies co1 WHERE co1.deleted_at IS NULL
       AND ((co1.name ILIKE 'Company 1%'::text)))))
ORDER BY (c.custom_fields->>'score')::numeric DESC NULLS LAST, c.id DESC LIMIT 21"""
    print("== EXPLAIN ANALYZE of the filtered + sorted page (the statement the filter builds)")
    result = subprocess.run(["psql", f"{PG}/{DB}", "-qAt", "-c", f"SET search_path = {schema}",
                             "-c", "SET max_parallel_workers_per_gather = 0", "-c", explain],
                            capture_output=True, text=True)
    print("\n".join("   " + line for line in result.stdout.splitlines() if line.strip()))


if __name__ == "__main__":
    main()
