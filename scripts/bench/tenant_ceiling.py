#!/usr/bin/env python3
"""The tenant ceiling: schema-per-tenant on one PostgreSQL, measured at growing tenant counts.

Usage: tenant_ceiling.py [LEVELS]   (default: 1000,5000,10000)
       CRM=path/to/crm picks the binary (default: the release build, else the debug build)

Runs a stack of its own, none of it shared: a PostgreSQL cluster (initdb into a temp folder),
a nats-server with JetStream, a Redis, the five subgraphs (`crm serve`, one process each) and the
router. Then, at each level:
  1. fills the database up to LEVEL tenants: tenant rows inserted, and for each a schema restored
     from a dump of one tenant that `crm migrate` made (FILL_WORKERS restores at once): the
     quickest way to thousands of tenants, timed per schema (not a figure of ours: provisioning
     through the API is step 2);
  2. registers SAMPLE organizations through the router (password hash, schema from the template,
     default pipeline, in one transaction) and prints p50/p95: provisioning as the count grows;
  3. times `crm migrate` with nothing to do, and one ADD COLUMN on every tenant's contacts (one
     transaction per tenant on one connection, as the migrator runs them);
  4. reads the catalog's size (pg_class and pg_attribute rows, their disk, the database's disk);
  5. touches three tables of every tenant on one connection, as a pooled connection serving every
     tenant in turn would, and reads that backend's cache memory (CacheMemoryContext: relcache
     and catcache) and its private RSS;
  6. runs the nested query (contacts → deals → activities) for random API-registered tenants and
     prints its p50/p95;
  7. dumps the whole schema (`pg_dump --schema-only`, as a backup does), which takes a lock on
     every table in one transaction: timed, or the error it stopped with.
Prints one table at the end.
"""
import json
import os
import random
import signal
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from private_pg import PrivatePostgres  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SAMPLE = 40
FILL_WORKERS = 3
SCHEMA_PLACEHOLDER = "tenant_fillertemplate0000000000000"
NESTED_QUERIES = 300
NESTED = "{ contacts(first: 20) { edges { node { firstName deals { title activities { subject } } } } } }"
SUBGRAPHS = {"auth": "AUTH_URL", "tenant": "TENANT_URL", "contact": "CONTACT_URL", "deal": "DEAL_URL",
             "communication": "COMMUNICATION_URL"}


def crm_binary():
    if os.environ.get("CRM"):
        return os.environ["CRM"]
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    for profile in ("release", "debug"):
        path = os.path.join(target, profile, "crm")
        if os.path.exists(path):
            return path
    sys.exit("no crm binary: cargo build --release -p crm (or set CRM)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except Exception:
            time.sleep(0.2)
    sys.exit(f"{url} did not answer")


def percentile(values, share):
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * share + 0.5) - 1)]


class Stack:
    """nats-server, Redis, five subgraphs and the router, on free ports, against `database_url`."""

    def __init__(self, crm, database_url):
        self.crm, self.database_url = crm, database_url
        self.dir = tempfile.mkdtemp(prefix="mtenant-ceiling-")
        self.processes = []

    def spawn(self, args, env=None, name="process"):
        log = open(os.path.join(self.dir, f"{name}.log"), "w")
        process = subprocess.Popen(args, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def __enter__(self):
        nats_port, redis_port = free_port(), free_port()
        self.spawn(["nats-server", "-a", "127.0.0.1", "-p", str(nats_port), "-js", "-sd", os.path.join(self.dir, "js")],
                   name="nats")
        self.spawn(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                   name="redis")
        time.sleep(1)
        self.env = {"DATABASE_URL": self.database_url, "NATS_URL": f"nats://127.0.0.1:{nats_port}",
                    "REDIS_URL": f"redis://127.0.0.1:{redis_port}", "LOG_LEVEL": "warn", "MAIL_DIR": os.path.join(self.dir, "mail")}
        urls = {}
        ports = {name: free_port() for name in SUBGRAPHS}
        self.env["JWKS_URL"] = f"http://127.0.0.1:{ports['auth']}/.well-known/jwks.json"
        for name, port in ports.items():
            self.spawn([self.crm, "serve", name], {**self.env, "PORT": str(port)}, name)
            wait_http(f"http://127.0.0.1:{port}/health/live")
            urls[SUBGRAPHS[name]] = f"http://127.0.0.1:{port}/graphql"
        router_port = free_port()
        config = os.path.join(ROOT, "router", "router.config.yaml")
        self.spawn([self.crm, "router"], {**self.env, **urls, "PORT": str(router_port), "ROUTER_HOST": "127.0.0.1",
                                          "ROUTER_CONFIG_FILE_PATH": config, "CARGO": "1"}, "router")
        self.router = f"http://127.0.0.1:{router_port}/graphql"
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                self.call("{ __typename }", {})
                return self
            except Exception:
                time.sleep(0.3)
        sys.exit("the router did not answer")

    def __exit__(self, *_):
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        if os.environ.get("BENCH_KEEP"):
            print(f"== logs kept in {self.dir}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def call(self, query, variables, token=None, address="127.0.0.1"):
        headers = {"content-type": "application/json", "x-forwarded-for": address}
        if token:
            headers["authorization"] = f"Bearer {token}"
        body = json.dumps({"query": query, "variables": variables}).encode()
        with urllib.request.urlopen(urllib.request.Request(self.router, body, headers), timeout=60) as response:
            result = json.load(response)
        if result.get("errors"):
            raise RuntimeError(f"GraphQL error: {result['errors']}")
        return result["data"]

    def migrate(self):
        started = time.perf_counter()
        out = subprocess.run([self.crm, "migrate"], env={**os.environ, **self.env}, capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"crm migrate failed: {out.stdout}{out.stderr}")
        return time.perf_counter() - started


class Ceiling:
    def __init__(self, pg, stack):
        self.pg, self.stack = pg, stack
        self.accounts = []
        self.registered = 0

    def sql(self, statement):
        return self.pg.sql("crm", statement)

    def tenants(self):
        return int(self.sql("SELECT count(*) FROM crm.tenants"))

    def template(self):
        """A dump (schema and rows) of one tenant schema `crm migrate` made, its name a placeholder."""
        if not hasattr(self, "_template"):
            tenant = uuid.uuid4()
            self.sql(f"INSERT INTO crm.tenants (id, name, subdomain) VALUES ('{tenant}', 'Template', 'fill-template')")
            self.stack.migrate()
            schema = f"tenant_{tenant.hex}"
            dump = subprocess.run(["pg_dump", "--schema", schema, "--no-owner", "--no-privileges", f"{self.pg.url}/crm"],
                                  capture_output=True, text=True, check=True).stdout
            self._template = dump.replace(schema, SCHEMA_PLACEHOLDER)
        return self._template

    def fill(self, level):
        """Tenant rows up to `level`, each with its schema restored from the template."""
        template = self.template()
        missing = level - self.tenants()
        if missing <= 0:
            return 0, 0.0
        batch = uuid.uuid4().hex[:8]
        ids = [uuid.UUID(line) for line in self.sql(
            f"INSERT INTO crm.tenants (id, name, subdomain) SELECT gen_random_uuid(), 'Filler', 'fill-{batch}-' || n "
            f"FROM generate_series(1, {missing}) n RETURNING id").split()]
        scripts = [[] for _ in range(FILL_WORKERS)]
        for n, tenant in enumerate(ids):
            scripts[n % FILL_WORKERS].append(template.replace(SCHEMA_PLACEHOLDER, f"tenant_{tenant.hex}"))
        started = time.perf_counter()
        workers = [subprocess.Popen(["psql", f"{self.pg.url}/crm", "-q", "-v", "ON_ERROR_STOP=1", "-X"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
                   for _ in scripts]
        for worker, script in zip(workers, scripts):
            threading.Thread(target=feed, args=(worker, script), daemon=True).start()
        for worker in workers:
            if worker.wait() != 0:
                sys.exit("restoring a tenant schema failed")
        return missing, time.perf_counter() - started

    def register(self, count):
        """`count` organizations through the router; the registration's own time, then a login."""
        timings = []
        for _ in range(count):
            self.registered += 1
            n = self.registered
            address = f"10.{77 + n // 62500}.{n // 250 % 250}.{n % 250 + 1}"
            subdomain = f"ceiling-{uuid.uuid4().hex[:10]}"
            email, password = f"owner@{subdomain}.example.com", "benchmark password"
            started = time.perf_counter()
            self.stack.call("mutation($i: RegisterOrganizationInput!) { registerOrganization(input: $i) { tenant { id } } }",
                            {"i": {"name": "Ceiling", "subdomain": subdomain,
                                   "owner": {"email": email, "password": password, "name": "Owner"}}}, address=address)
            timings.append((time.perf_counter() - started) * 1000)
            token = self.stack.call("mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
                                    {"i": {"email": email, "password": password, "subdomain": subdomain}},
                                    address=address)["login"]["accessToken"]
            contact = self.stack.call("mutation($i: CreateContactInput!) { createContact(input: $i) { id } }",
                                      {"i": {"firstName": "Ceiling"}}, token)["createContact"]["id"]
            deal = self.stack.call("mutation($i: CreateDealInput!) { createDeal(input: $i) { id } }",
                                   {"i": {"title": "Ceiling deal", "currency": "USD", "contactIds": [contact]}},
                                   token)["createDeal"]["id"]
            self.stack.call("mutation($i: LogActivityInput!) { logActivity(input: $i) { id } }",
                            {"i": {"type": "NOTE", "subject": "ceiling", "dealId": deal}}, token)
            self.accounts.append((email, password, subdomain, address))
        return timings

    def add_column(self, name):
        """One ADD COLUMN on every tenant's contacts, a transaction per tenant on one connection."""
        schemas = self.sql("SELECT 'tenant_' || replace(id::text, '-', '') FROM crm.tenants").split()
        script = "".join(f"BEGIN; ALTER TABLE {schema}.contacts ADD COLUMN {name} text; COMMIT;\n" for schema in schemas)
        started = time.perf_counter()
        subprocess.run(["psql", f"{self.pg.url}/crm", "-q", "-v", "ON_ERROR_STOP=1"], input=script, text=True,
                       check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - started

    def catalog(self):
        row = self.sql("SELECT (SELECT count(*) FROM pg_class), (SELECT count(*) FROM pg_attribute), "
                       "pg_total_relation_size('pg_class') + pg_total_relation_size('pg_attribute') "
                       "+ pg_total_relation_size('pg_depend') + pg_total_relation_size('pg_index') "
                       "+ pg_total_relation_size('pg_constraint') + pg_total_relation_size('pg_type'), "
                       "pg_database_size('crm')")
        classes, attributes, catalog_bytes, database_bytes = (int(v) for v in row.split("|"))
        return classes, attributes, catalog_bytes, database_bytes

    def touch_all(self):
        """One connection reads three tables of every tenant, then reports its own memory."""
        schemas = self.sql("SELECT 'tenant_' || replace(id::text, '-', '') FROM crm.tenants").split()
        lines = ["\\o /dev/null", "SELECT pg_backend_pid();"]
        for schema in schemas:
            lines.append(f"SELECT 1 FROM {schema}.contacts LIMIT 1; SELECT 1 FROM {schema}.deals LIMIT 1; "
                         f"SELECT 1 FROM {schema}.activities LIMIT 1;")
        lines += ["\\o", "SELECT pg_backend_pid(), "
                  "(SELECT sum(total_bytes) FROM pg_backend_memory_contexts WHERE name = 'CacheMemoryContext' "
                  "OR parent = 'CacheMemoryContext'), (SELECT sum(total_bytes) FROM pg_backend_memory_contexts);",
                  "SELECT pg_sleep(1);"]
        started = time.perf_counter()
        process = subprocess.Popen(["psql", f"{self.pg.url}/crm", "-Atq"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   text=True)
        process.stdin.write("\n".join(lines) + "\n")
        process.stdin.flush()
        first = process.stdout.readline().strip()
        pid, cache_bytes, total_bytes = (int(v) for v in first.split("|"))
        elapsed = time.perf_counter() - started
        rss = private_rss(pid)
        process.stdin.close()
        process.wait()
        return cache_bytes, total_bytes, rss, elapsed

    def dump(self):
        """`pg_dump --schema-only` of the database: seconds, or the error it ended with."""
        started = time.perf_counter()
        out = subprocess.run(["pg_dump", "--schema-only", "-f", "/dev/null", f"{self.pg.url}/crm"],
                             capture_output=True, text=True)
        if out.returncode != 0:
            return "failed: " + (out.stderr.strip().splitlines() or ["?"])[-1][:120]
        return f"{time.perf_counter() - started:.0f} s"

    def sign_in(self, accounts):
        """Fresh tokens (they live 15 minutes; a run lasts longer) for `accounts`."""
        return [self.stack.call("mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
                                {"i": {"email": email, "password": password, "subdomain": subdomain}},
                                address=address)["login"]["accessToken"]
                for email, password, subdomain, address in accounts]

    def nested(self):
        tokens = self.sign_in(random.sample(self.accounts, min(len(self.accounts), SAMPLE)))
        timings = []
        for _ in range(NESTED_QUERIES):
            token = random.choice(tokens)
            started = time.perf_counter()
            data = self.stack.call(NESTED, {}, token)
            timings.append((time.perf_counter() - started) * 1000)
            if len(data["contacts"]["edges"]) != 1:
                sys.exit("the nested query did not see exactly its tenant's one contact")
        return timings


def feed(worker, dumps):
    """Writes one restore per tenant, each in a transaction of its own, then ends the input."""
    for dump in dumps:
        worker.stdin.write("BEGIN;\n" + dump + "\nCOMMIT;\n")
    worker.stdin.close()


def private_rss(pid):
    """A backend's own memory: anonymous RSS (shared buffers are shared, counted elsewhere)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    return 0


def mib(n):
    return f"{n / 1048576:.1f}"


def main():
    # A stopped run still stops its processes and removes its cluster.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))
    levels = [int(v) for v in (sys.argv[1] if len(sys.argv) > 1 else "1000,5000,10000").split(",")]
    crm = crm_binary()
    print(f"== {crm}")
    rows = []
    # A server sized as for production on this machine, not PostgreSQL's defaults (128 MB of
    # shared buffers would not hold even the catalog of a thousand tenants).
    with PrivatePostgres({"max_connections": "300", "shared_buffers": "2GB", "max_wal_size": "4GB"}) as pg:
        env = {**os.environ, "DATABASE_URL": f"{pg.url}/crm", "LOG_LEVEL": "warn"}
        subprocess.run([crm, "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
        with Stack(crm, f"{pg.url}/crm") as stack:
            ceiling = Ceiling(pg, stack)
            for number, level in enumerate(levels):
                created, fill_secs = ceiling.fill(level - SAMPLE)
                print(f"== {level}: {created} schemas restored in {fill_secs:.0f} s", flush=True)
                provisioning = ceiling.register(SAMPLE)
                noop = stack.migrate()
                add_column = ceiling.add_column(f"ceiling_{number}")
                classes, attributes, catalog_bytes, database_bytes = ceiling.catalog()
                cache, backend_total, rss, touch_secs = ceiling.touch_all()
                nested = ceiling.nested()
                dump = ceiling.dump()
                row = {
                    "tenants": ceiling.tenants(),
                    "create_per_schema_ms": fill_secs * 1000 / created if created else 0,
                    "provision_p50": statistics.median(provisioning), "provision_p95": percentile(provisioning, 0.95),
                    "migrate_noop_s": noop, "add_column_s": add_column,
                    "pg_class": classes, "pg_attribute": attributes, "catalog_mib": mib(catalog_bytes),
                    "database_mib": mib(database_bytes), "cache_mib": mib(cache), "backend_mib": mib(backend_total),
                    "rss_mib": mib(rss), "touch_s": touch_secs,
                    "nested_p50": statistics.median(nested), "nested_p95": percentile(nested, 0.95),
                    "dump": dump,
                }
                print(json.dumps(row), flush=True)
                rows.append(row)
    print()
    print("| tenants | restore/schema | provision p50 / p95 | migrate no-op | ADD COLUMN all | pg_class rows "
          "| pg_attribute rows | catalog | database | backend cache after touching all | backend RSS | nested p50 / p95 "
          "| pg_dump --schema-only |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['tenants']} | {r['create_per_schema_ms']:.0f} ms | {r['provision_p50']:.0f} / {r['provision_p95']:.0f} ms "
              f"| {r['migrate_noop_s']:.1f} s | {r['add_column_s']:.1f} s | {r['pg_class']} | {r['pg_attribute']} "
              f"| {r['catalog_mib']} MiB | {r['database_mib']} MiB | {r['cache_mib']} MiB (of {r['backend_mib']}) "
              f"| {r['rss_mib']} MiB | {r['nested_p50']:.1f} / {r['nested_p95']:.1f} ms | {r['dump']} |")


if __name__ == "__main__":
    main()
