#!/usr/bin/env python3
"""MTenant CRM side by side with PostGraphile, on the same freshly seeded tenant.

Usage: scripts/bench/peer.py [SIZES] [SECONDS]     (default 50,1000 contacts; 10 s per run)

Ours: the release `crm` (`cargo build --release --bin crm`, or CRM_BIN) as `crm up`, through the
router at :4000. The peer: PostGraphile 4.14.1 with postgraphile-plugin-connection-filter 2.3.0 and
@graphile-contrib/pg-simplify-inflector 6.1.0, `--cluster-workers 2`, installed from npm into
~/.cache/mtenant-crm/postgraphile (a benchmark peer, not a dependency), serving the same tenant
schema at :5050 as the database superuser. Both use one PostgreSQL cluster of the benchmark's own
(private_pg.py: pg_stat_statements loaded; deleted at the end), with Redis and NATS shared.

Per size: one organization with SIZE contacts in ten companies, each contact with a deal (with its
stage) and two activities on the deal. Both sides answer the same queries (checked once, sorted
the same way), then wrk (`apt-get install wrk`) drives each at 1 and 16 connections for SECONDS,
with the page size varied 41-50 and the contact id drawn from all contacts, request by request.
Printed per query and concurrency: requests/s, p50 and p95 for both and the ratio; per request,
SQL statements (pg_stat_statements' calls, BEGIN and COMMIT included), Postgres transactions,
Redis commands (ours), and the CPU milliseconds of each process (router, subgraphs, Postgres;
PostGraphile's node workers, Postgres). Needs the ports 3000, 4000, 5050 and 8080-8084 free.
"""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from private_pg import PrivatePostgres  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
CRM = os.environ.get("CRM_BIN", os.path.join(TARGET, "release", "crm"))
CACHE = os.path.join(os.path.expanduser("~"), ".cache", "mtenant-crm", "postgraphile")
HERE = os.path.dirname(os.path.abspath(__file__))
SIZES = [int(n) for n in (sys.argv[1] if len(sys.argv) > 1 else "50,1000").split(",")]
SECONDS = int(sys.argv[2]) if len(sys.argv) > 2 else 10
ROUTER = "http://127.0.0.1:4000/graphql"
PEER = "http://127.0.0.1:5050/graphql"
PEER_PACKAGES = ["postgraphile@4.14.1", "postgraphile-plugin-connection-filter@2.3.0",
                 "@graphile-contrib/pg-simplify-inflector@6.1.0"]

# The same questions, as each side asks them. __FIRST__ and __UUID__ vary per request.
QUERIES = {
    "nested: contacts → deals → stage, activities": (
        "{ contacts(first: __FIRST__, orderBy: [{ field: CREATED_AT, direction: ASC }]) { edges { node { firstName deals { title stage { name } activities { subject } } } } } }",
        "{ contacts(first: __FIRST__, orderBy: CREATED_AT_ASC) { nodes { firstName dealContacts { nodes { deal { title stage: pipelineStage { name } activitiesByDealId: activities { nodes { subject } } } } } } } }",
    ),
    "filtered, sorted contacts page": (
        "{ contacts(first: __FIRST__, filter: { lifecycleStage: { eq: CUSTOMER } }, orderBy: [{ field: LAST_NAME, direction: ASC }]) { edges { node { firstName lastName email } } } }",
        "{ contacts(first: __FIRST__, filter: { lifecycleStage: { equalTo: \\\"customer\\\" } }, orderBy: LAST_NAME_ASC) { nodes { firstName lastName email } } }",
    ),
    "contact(id) with its company": (
        "{ contact(id: \\\"__CONTACT__\\\") { firstName company { name } } }",
        "{ contact(id: \\\"__CONTACT__\\\") { firstName company { name } } }",
    ),
    "createContact": (
        "mutation { createContact(input: { firstName: \\\"Bench\\\", lastName: \\\"__UUID__\\\" }) { id } }",
        "mutation { createContact(input: { contact: { id: \\\"__UUID__\\\", firstName: \\\"Bench\\\", lastName: \\\"__UUID__\\\" } }) { contact { id } } }",
    ),
}


def post(url, query, variables=None, token=None):
    octet = lambda: random.randint(1, 254)  # noqa: E731
    headers = {"content-type": "application/json", "x-forwarded-for": f"10.{octet()}.{octet()}.{octet()}"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, body, headers), timeout=60) as response:
            result = json.load(response)
    except urllib.error.HTTPError as err:
        sys.exit(f"{url} answered {err.code}: {err.read().decode()[:500]}")
    if result.get("errors"):
        sys.exit(f"GraphQL error from {url}: {result['errors']}")
    return result["data"]


def wait_for(url, seconds=120):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(urllib.request.Request(url, b'{"query":"{ __typename }"}', {"content-type": "application/json"}), timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.3)
    sys.exit(f"{url} did not answer")


def install_peer():
    marker = os.path.join(CACHE, "node_modules", ".bin", "postgraphile")
    if not os.path.exists(marker):
        os.makedirs(CACHE, exist_ok=True)
        print(f"== installing {' '.join(PEER_PACKAGES)} into {CACHE}")
        subprocess.run(["npm", "install", "--prefix", CACHE, "--no-audit", "--no-fund", "--loglevel=error", *PEER_PACKAGES], check=True)
    return marker


def seed(size):
    subdomain = f"peer-{uuid.uuid4().hex[:10]}"
    email, password = f"owner@{subdomain}.example.com", "benchmark password"
    data = post(ROUTER, "mutation($i: RegisterOrganizationInput!) { registerOrganization(input: $i) { tenant { id } } }",
                {"i": {"name": "Peer", "subdomain": subdomain, "owner": {"email": email, "password": password, "name": "Bench"}}})
    tenant = data["registerOrganization"]["tenant"]["id"]
    token = post(ROUTER, "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
                 {"i": {"email": email, "password": password, "subdomain": subdomain}})["login"]["accessToken"]
    # Every contact belongs to one of ten companies, so `contact(id) { company }` reads a real row.
    companies = [post(ROUTER, "mutation($n: String!) { createCompany(input: { name: $n }) { id } }", {"n": f"Peer {k} Inc"}, token)["createCompany"]["id"]
                 for k in range(10)]
    contacts = []
    stages = ["LEAD", "PROSPECT", "CUSTOMER"]
    for start in range(0, size, 100):
        inputs = [{"firstName": f"First{n:05d}", "lastName": f"Last{(n * 7919) % size:05d}", "companyId": companies[n % 10],
                   "email": f"c{n}@{subdomain}.example", "lifecycleStage": stages[n % 3]} for n in range(start, min(size, start + 100))]
        created = post(ROUTER, "mutation($i: [CreateContactInput!]!) { createContacts(inputs: $i) { contact { id } } }", {"i": inputs}, token)
        contacts += [r["contact"]["id"] for r in created["createContacts"]]
    for n, contact in enumerate(contacts):
        deal = post(ROUTER, "mutation($i: CreateDealInput!) { createDeal(input: $i) { id } }",
                    {"i": {"title": f"Deal {n:05d}", "amount": "1000", "contactIds": [contact]}}, token)["createDeal"]["id"]
        for k in range(2):
            post(ROUTER, "mutation($i: LogActivityInput!) { logActivity(input: $i) { id } }",
                 {"i": {"type": "NOTE", "subject": f"Note {k} on {n:05d}", "dealId": deal}}, token)
    return tenant, token, contacts


def cpu_ms(pids, descendants=True):
    """CPU time of these processes (and, with `descendants`, every descendant, live or ended:
    each process's own time plus what its ended children left in its cumulative fields, so
    short-lived backends count)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    seen = set()
    for pid in pids:
        for member in [pid, *(children(pid) if descendants else [])]:
            if member in seen:
                continue
            seen.add(member)
            try:
                with open(f"/proc/{member}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            # utime, stime, cutime, cstime
            total += int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
    return total * 1000 / ticks


def children(pid):
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    found = [int(p) for p in out]
    for child in list(found):
        found += children(child)
    return found


def redis_commands():
    out = subprocess.run(["redis-cli", "info", "stats"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if line.startswith("total_commands_processed:"):
            return int(line.split(":")[1])
    return 0


def load(url, body, token, connections, groups, pg, db, ids):
    with open("/tmp/peer-body.json", "w") as out:
        out.write(body)
    with open("/tmp/peer-ids.txt", "w") as out:
        out.write("\n".join(ids) + "\n")
    before = {name: cpu_ms(pids, name != "subgraphs") for name, pids in groups.items()}
    tx, statements, commands = pg.transactions(db), pg.statements(db), redis_commands()
    env = {**os.environ, "BODY_FILE": "/tmp/peer-body.json", "IDS_FILE": "/tmp/peer-ids.txt", "TOKEN": token or ""}
    threads = 1 if connections == 1 else 2
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{SECONDS}s", "-s", os.path.join(HERE, "peer.lua"), url],
                         env=env, capture_output=True, text=True).stdout
    line = next((l for l in out.splitlines() if l.startswith("RESULT")), None)
    if not line:
        sys.exit(f"wrk said: {out}")
    rate, p50, p95, requests, errors = line.split()[1:]
    requests = max(int(requests), 1)
    cpu = {name: (cpu_ms(pids, name != "subgraphs") - before[name]) / requests for name, pids in groups.items()}
    return {"rate": float(rate), "p50": float(p50), "p95": float(p95), "errors": int(errors), "cpu": cpu,
            "tx": (pg.transactions(db) - tx) / requests, "sql": (pg.statements(db) - statements) / requests,
            "redis": (redis_commands() - commands) / requests}


def answers_match(token, contacts):
    """Both sides hold the same data: the nested answer for 45 contacts, compared as sorted sets,
    and `contact(id)` with its company for a few contacts across the table."""
    ours = post(ROUTER, QUERIES["nested: contacts → deals → stage, activities"][0].replace("__FIRST__", "45").replace('\\"', '"'), token=token)
    theirs = post(PEER, QUERIES["nested: contacts → deals → stage, activities"][1].replace("__FIRST__", "45").replace('\\"', '"'))
    flat_ours = sorted((e["node"]["firstName"], d["title"], d["stage"]["name"], tuple(sorted(a["subject"] for a in d["activities"])))
                       for e in ours["contacts"]["edges"] for d in e["node"]["deals"])
    flat_theirs = sorted((n["firstName"], dc["deal"]["title"], dc["deal"]["stage"]["name"],
                          tuple(sorted(a["subject"] for a in dc["deal"]["activitiesByDealId"]["nodes"])))
                         for n in theirs["contacts"]["nodes"] for dc in n["dealContacts"]["nodes"])
    if flat_ours != flat_theirs:
        sys.exit(f"the two sides disagree:\nours   {flat_ours[:3]}\ntheirs {flat_theirs[:3]}")
    for contact in contacts[:: max(1, len(contacts) // 5)]:
        query = QUERIES["contact(id) with its company"]
        ours_one = post(ROUTER, query[0].replace("__CONTACT__", contact).replace('\\"', '"'), token=token)
        theirs_one = post(PEER, query[1].replace("__CONTACT__", contact).replace('\\"', '"'))
        if ours_one != theirs_one:
            sys.exit(f"the two sides disagree on contact {contact}: ours {ours_one}, theirs {theirs_one}")
    return len(flat_ours)


def row(label, figures, cpu_names, ratio=""):
    cpu = " ".join(f"{name} {figures['cpu'][name]:.2f}" for name in cpu_names)
    redis = f"{figures['redis']:>5.1f}" if "redis" in figures else f"{'-':>5}"
    errors = f"  ERRORS {figures['errors']}" if figures["errors"] else ""
    return (f"  {label:6} {figures['rate']:>8.0f} {figures['p50']:>7.1f} {figures['p95']:>7.1f} {ratio:>6} |"
            f" {figures['sql']:>5.1f} {figures['tx']:>5.1f} {redis} | {cpu}{errors}")


def main():
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")
    if not os.path.exists(CRM):
        sys.exit(f"{CRM} is missing: cargo build --release -p crm")
    postgraphile = install_peer()
    db = "crm_bench_peer"
    with PrivatePostgres() as pg:
        env = {**os.environ, "DATABASE_URL": f"{pg.url}/{db}", "LOG_LEVEL": "warn", "WEB_DIST": os.path.join(ROOT, "web", "dist"),
               "MAIL_DIR": os.path.join(pg.dir, "mail")}
        up = subprocess.Popen([CRM, "up"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, start_new_session=True)
        peer = None
        try:
            wait_for(ROUTER)
            time.sleep(2)
            router_pids = [p for p in children(up.pid) if "router" in open(f"/proc/{p}/cmdline").read()]
            print(f"binaries: {CRM}; PostGraphile from {CACHE}; PostgreSQL of its own at {pg.url}; {SECONDS} s per run")
            for size in SIZES:
                tenant, token, contacts = seed(size)
                schema = "tenant_" + tenant.replace("-", "")
                if peer:
                    os.killpg(peer.pid, signal.SIGTERM)
                    peer.wait()
                peer = subprocess.Popen([postgraphile, "-c", f"{pg.url}/{db}", "-s", schema, "--append-plugins",
                                         "@graphile-contrib/pg-simplify-inflector,postgraphile-plugin-connection-filter",
                                         "--cluster-workers", "2", "--disable-query-log", "--host", "127.0.0.1", "--port", "5050"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
                wait_for(PEER)
                time.sleep(2)
                checked = answers_match(token, contacts)
                print(f"\n== {size} contacts (both sides answer the same {checked} contact-deal rows and the same contacts with companies)")
                groups_ours = {"router": router_pids, "subgraphs": [up.pid], "postgres": [pg.postmaster()]}
                groups_peer = {"node": [peer.pid], "postgres": [pg.postmaster()]}
                print(f"  {'side':6} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'ratio':>6} | {'sql':>5} {'tx':>5} {'redis':>5} | CPU ms per request, per process (per request: SQL statements, transactions, Redis commands)")
                for name, (our_query, their_query) in QUERIES.items():
                    for connections in (1, 16):
                        ours = load(ROUTER, '{"query":"' + our_query + '"}', token, connections, groups_ours, pg, db, contacts)
                        theirs = load(PEER, '{"query":"' + their_query + '"}', None, connections, groups_peer, pg, db, contacts)
                        del theirs["redis"]
                        ratio = f"{ours['rate'] / theirs['rate']:.2f}x" if theirs["rate"] else "-"
                        print(f"{name}, {connections} connection{'s' if connections > 1 else ''}")
                        print(row("ours", ours, ("router", "subgraphs", "postgres"), ratio))
                        print(row("peer", theirs, ("node", "postgres")))
        finally:
            if peer:
                os.killpg(peer.pid, signal.SIGTERM)
            os.killpg(up.pid, signal.SIGINT)
            up.wait()


if __name__ == "__main__":
    main()
