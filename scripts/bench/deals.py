#!/usr/bin/env python3
"""dealAnalytics over 100,000 deals with 500,000 stage changes, straight at the deal subgraph.

Usage: scripts/bench/deals.py [DEALS]          (default 100000; five stage changes per deal)

Builds nothing: it runs the release binaries of the auth, tenant and deal subgraphs from BIN_DIR
(default: $CARGO_TARGET_DIR/release or target/release; build them with
`cargo build --release -p crm-auth -p crm-tenant -p crm-deal`) and `crm migrate` from CRM_BIN
(default: the debug build), on a database of its own (dropped at the end; BENCH_KEEP=1 keeps it)
and ports 18080-18083, against PostgreSQL, NATS and Redis on their usual local ports.

The deals are written with SQL into the organization's schema (three currencies, an owner on
half of them, expected close dates over a year, every stage), each with five stage changes
(forward, sometimes back, some into WON or LOST) spread over a year, with the roll-up
triggers off, then rebuilds the roll-ups (timed). Prints p50/p95 of dealAnalytics for all time,
for one quarter, and for one owner, then the cost of a move with the triggers on.
"""
import os
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import contacts as bench  # noqa: E402  (the shared helpers: processes, calls, percentiles)

DEALS = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
SAMPLES = int(os.environ.get("BENCH_SAMPLES", "100"))
bench.PORTS.clear()
bench.PORTS.update({"auth": 18080, "tenant": 18081, "deal": 18083})
bench.DB = "crm_bench_" + uuid.uuid4().hex[:8]

ANALYTICS = """query($from: Date, $to: Date, $owner: ID) { dealAnalytics(from: $from, to: $to, ownerId: $owner) {
    byStage { stage { name } count amounts { currency amount weightedAmount } }
    forecast { month count amounts { currency amount weightedAmount } }
    winRate { won lost byCount byAmount { currency rate } }
    salesCycle { deals averageDays medianDays }
    stageConversion { stage { name } entered advanced rate }
    timeInStage { stage { name } exits averageSeconds medianSeconds }
    perOwner { owner { id } open won lost winRate } } }"""

SEED = """
BEGIN;
SELECT set_config('search_path', '{schema}', true);
-- A bulk load: the roll-up triggers are off, and the roll-ups are rebuilt once at the end.
SET LOCAL session_replication_role = replica;
-- Deals: created over 2026, in every stage of the default pipeline (positions 1..6).
INSERT INTO deals (id, title, amount, currency, pipeline_id, stage_id, owner_id, expected_close_date,
                   status, closed_at, position, stage_entered_at, version, custom_fields, created_at, updated_at)
SELECT gen_random_uuid(), 'Deal ' || n, round((random() * 100000)::numeric, 2),
       (ARRAY['USD', 'EUR', 'GBP'])[1 + n % 3], s.pipeline_id, s.id,
       CASE WHEN n % 2 = 0 THEN '{owner}'::uuid END, date '2026-06-01' + (n % 365),
       s.kind, CASE WHEN s.kind <> 'open' THEN t.created + interval '40 days' END, n,
       t.created + interval '40 days', 6, '{{}}', t.created, t.created + interval '40 days'
FROM generate_series(1, {deals}) n
CROSS JOIN LATERAL (SELECT timestamptz '2026-01-01' + (n % 300) * interval '1 day' AS created) t
JOIN pipeline_stages s ON s.position = 1 + n % 6;
-- Five changes per deal, eight days apart: Lead, then forward or back, ending where it is.
INSERT INTO deal_stage_changes (id, deal_id, pipeline_id, from_stage_id, from_stage_name, to_stage_id,
                                to_stage_name, changed_at, from_entered_at)
SELECT gen_random_uuid(), d.id, d.pipeline_id, f.id, f.name, t.id, t.name,
       d.created_at + k * interval '8 days', d.created_at + (k - 1) * interval '8 days'
FROM deals d
CROSS JOIN generate_series(1, 5) k
JOIN pipeline_stages f ON f.position = CASE WHEN k = 1 THEN 1 ELSE 1 + (k + d.position::int) % 4 END
JOIN pipeline_stages t ON t.position = CASE WHEN k = 5 THEN (SELECT position FROM pipeline_stages WHERE id = d.stage_id)
                                            ELSE 1 + (k + 1 + d.position::int) % 4 END;
SET LOCAL session_replication_role = DEFAULT;
\\timing on
SELECT deal_rollups_rebuild();
\\timing off
COMMIT;
ANALYZE;
SELECT (SELECT count(*) FROM {schema}.deals) AS deals, (SELECT count(*) FROM {schema}.deal_stage_changes) AS changes;
"""


def main():
    env = {**os.environ, "DATABASE_URL": f"{bench.PG}/{bench.DB}",
           "JWKS_URL": f"http://127.0.0.1:{bench.PORTS['auth']}/.well-known/jwks.json", "LOG_LEVEL": "warn"}
    subprocess.run([bench.CRM_BIN, "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
    processes = bench.start(env)
    try:
        run()
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.terminate()
                process.wait()
        bench.finish_database(bench.DB)


def run():
    subdomain = "bench-" + uuid.uuid4().hex[:10]
    email, password = f"owner@{subdomain}.example.com", "benchmark password"
    registered = bench.call("tenant", "mutation($i: RegisterOrganizationInput!) { registerOrganization(input: $i) { tenant { id } user { id } } }",
                            {"i": {"name": "Bench", "subdomain": subdomain, "owner": {"email": email, "password": password, "name": "Bench"}}})
    tenant_id = registered["registerOrganization"]["tenant"]["id"]
    owner = registered["registerOrganization"]["user"]["id"]
    token = bench.call("auth", "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
                       {"i": {"email": email, "password": password, "subdomain": subdomain}})["login"]["accessToken"]
    schema = "tenant_" + tenant_id.replace("-", "")
    started = time.perf_counter()
    seeded = subprocess.run(["psql", f"{bench.PG}/{bench.DB}", "-qAt", "-v", "ON_ERROR_STOP=1", "-f", "-"],
                            input=SEED.format(schema=schema, owner=owner, deals=DEALS), capture_output=True, text=True)
    if seeded.returncode != 0:
        sys.exit(seeded.stderr)
    counts = seeded.stdout.strip().splitlines()[-1]
    rebuilt = next(line for line in seeded.stdout.splitlines() if line.startswith("Time:"))
    print(f"== roll-ups rebuilt from scratch: {rebuilt[len('Time: '):]}")
    print(f"== seeded deals|changes = {counts} in {time.perf_counter() - started:.1f} s")
    print(f"== dealAnalytics, {SAMPLES} sequential requests each, straight at the deal subgraph")
    for label, variables in (
        ("all time", {}),
        ("one quarter", {"from": "2026-04-01", "to": "2026-06-30"}),
        ("one owner, all time", {"owner": owner}),
    ):
        bench.timed(5, ANALYTICS, lambda n: variables, token, subgraph="deal")
        p50, p95 = bench.timed(SAMPLES, ANALYTICS, lambda n: variables, token, subgraph="deal")
        print(f"   {label}: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    # What keeping the roll-ups costs a write: moves of open deals between open stages.
    board = bench.call("deal", "{ pipelines { stages { id kind } } deals(first: 100, filter: { status: { eq: OPEN } }) { edges { node { id } } } }",
                       {}, token)
    stages = [s["id"] for s in board["pipelines"][0]["stages"] if s["kind"] == "OPEN"]
    deals = [e["node"]["id"] for e in board["deals"]["edges"]]
    move = "mutation($id: ID!, $s: ID!) { moveDeal(id: $id, stageId: $s) { id } }"
    for label, switch in (("with", None), ("without", "DISABLE"), ("with", "ENABLE")):
        if switch:
            triggers = " ".join(f"ALTER TABLE {schema}.{table} {switch} TRIGGER USER;" for table in ("deals", "deal_stage_changes"))
            subprocess.run(["psql", f"{bench.PG}/{bench.DB}", "-qc", triggers], check=True)
        p50, p95 = bench.timed(len(deals), move, lambda n: {"id": deals[n], "s": stages[(n + len(label)) % len(stages)]},
                               token, subgraph="deal")
        print(f"== moveDeal {label} the roll-up triggers, {len(deals)} moves: p50 {p50:.1f} ms, p95 {p95:.1f} ms")


if __name__ == "__main__":
    main()
