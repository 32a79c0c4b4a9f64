#!/usr/bin/env python3
"""dealChanged fan-out through the router: 1,000, 5,000 and 10,000 concurrent subscribers.

Usage: scripts/bench/fanout.py [LEVELS]       (default 1000,5000,10000)

Builds nothing: it runs the release `crm` binary (`cargo build --release -p crm`) as the router
and the auth, tenant and deal subgraphs from BIN_DIR (default: $CARGO_TARGET_DIR/release or
target/release), on a database of its own (dropped at the end) and ports 18000-18083, against
PostgreSQL, NATS and Redis on their usual local ports.

TENANTS organizations (default 10) each get two pipelines and SESSIONS signed-in sessions
(default 5); subscribers are spread evenly over the pipelines and sessions, each with
`dealChanged(pipelineId:)`, over
graphql-transport-ws through the router. At each level, after every subscriber has heard a
warm-up move, one deal moves every 100 ms (round robin over the pipelines) for SECONDS
(default 30); each move's event is known by its deal and version. Prints per level: p50 and p99
of move (mutation sent) → subscriber (event read) latency, delivered / expected events, and the
router's and deal subgraph's resident memory per subscriber (growth over the idle baseline).
Subscribers are added level by level on the same processes.
"""
import asyncio
import base64
import json
import os
import resource
import subprocess
import sys
import time
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import contacts as bench  # noqa: E402  (the shared helpers: processes, calls, percentiles)

LEVELS = [int(n) for n in (sys.argv[1] if len(sys.argv) > 1 else "1000,5000,10000").split(",")]
TENANTS = int(os.environ.get("TENANTS", "10"))
SECONDS = float(os.environ.get("SECONDS", "30"))
SESSIONS = int(os.environ.get("SESSIONS", "5"))
DEALS_PER_PIPELINE = 10
ROUTER_PORT = 18000
bench.PORTS.clear()
bench.PORTS.update({"auth": 18080, "tenant": 18081, "deal": 18083})
bench.DB = "crm_bench_" + uuid.uuid4().hex[:8]
ROUTER_CONFIG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "router", "router.config.yaml")
CRM_RELEASE = os.path.join(bench.BIN_DIR, "crm")

SUBSCRIPTION = "subscription($p: ID) { dealChanged(pipelineId: $p) { id kind version deal { id } toStage { id } } }"
MOVE = "mutation($id: ID!, $s: ID!) { moveDeal(id: $id, stageId: $s) { id version } }"


def rss_kib(pid):
    return bench.kib(pid, "VmRSS")


def more_files():
    # Each subscriber is a socket here and at the subgraph, and two at the router (client and
    # subgraph side): as many open files as this machine allows.
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def start_router(env):
    router_env = {**env, "ROUTER_CONFIG_FILE_PATH": os.path.abspath(ROUTER_CONFIG), "PORT": str(ROUTER_PORT),
                  "ROUTER_HOST": "127.0.0.1", "AUTH_URL": "http://127.0.0.1:18080/graphql",
                  "TENANT_URL": "http://127.0.0.1:18081/graphql", "DEAL_URL": "http://127.0.0.1:18083/graphql"}
    router_env.pop("LOG_LEVEL", None)
    process = subprocess.Popen([CRM_RELEASE, "router"], env=router_env, cwd=os.path.dirname(os.path.abspath(ROUTER_CONFIG)),
                               preexec_fn=more_files, stdout=subprocess.DEVNULL)
    for _ in range(600):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{ROUTER_PORT}/health", timeout=1)
            return process
        except urllib.error.HTTPError:
            return process
        except OSError:
            time.sleep(0.1)
    sys.exit("the router did not start")


def router_call(query, variables, token):
    request = urllib.request.Request(
        f"http://127.0.0.1:{ROUTER_PORT}/graphql", data=json.dumps({"query": query, "variables": variables}).encode(),
        headers={"content-type": "application/json", "authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        body = json.loads(response.read())
    if body.get("errors"):
        raise RuntimeError(body["errors"])
    return body["data"]


class Subscriber:
    """One graphql-transport-ws connection with one dealChanged subscription."""

    def __init__(self, pipeline, token):
        self.pipeline = pipeline
        self.token = token
        self.heard = {}  # (deal id, version) -> perf_counter when read
        self.errors = []
        self.writer = None

    async def open(self):
        reader, writer = await asyncio.open_connection("127.0.0.1", ROUTER_PORT)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write((f"GET /graphql HTTP/1.1\r\nHost: 127.0.0.1:{ROUTER_PORT}\r\nUpgrade: websocket\r\n"
                      f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                      "Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n").encode())
        head = await reader.readuntil(b"\r\n\r\n")
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise RuntimeError(head.split(b"\r\n")[0].decode())
        self.reader, self.writer = reader, writer
        self.send({"type": "connection_init", "payload": {"Authorization": f"Bearer {self.token}"}})
        while True:
            message = await self.next()
            if message.get("type") == "connection_ack":
                break
        self.send({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION, "variables": {"p": self.pipeline}}})

    def send(self, message, opcode=0x1):
        payload = json.dumps(message).encode() if opcode == 0x1 else message
        mask = os.urandom(4)
        length = len(payload)
        if length < 126:
            head = bytes([0x80 | opcode, 0x80 | length])
        else:
            head = bytes([0x80 | opcode, 0x80 | 126]) + length.to_bytes(2, "big")
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.writer.write(head + mask + masked)

    async def next(self):
        while True:
            first, second = await self.reader.readexactly(2)
            length = second & 0x7F
            if length == 126:
                length = int.from_bytes(await self.reader.readexactly(2), "big")
            elif length == 127:
                length = int.from_bytes(await self.reader.readexactly(8), "big")
            payload = await self.reader.readexactly(length)
            opcode = first & 0x0F
            if opcode == 0x9:
                self.send(payload, opcode=0xA)
            elif opcode == 0x8:
                raise ConnectionError("closed by the router")
            elif opcode == 0x1:
                message = json.loads(payload)
                if message.get("type") == "ping":
                    self.send({"type": "pong"})
                    continue
                return message

    async def listen(self):
        try:
            while True:
                message = await self.next()
                if message.get("type") == "next":
                    change = (message.get("payload", {}).get("data") or {}).get("dealChanged")
                    if change:
                        self.heard[(change["deal"]["id"], change["version"])] = time.perf_counter()
                    else:
                        self.errors.append(message)
                elif message.get("type") in ("error", "complete"):
                    self.errors.append(message)
                    return
        except (ConnectionError, asyncio.IncompleteReadError) as err:
            self.errors.append(str(err))


def setup():
    """TENANTS organizations with two pipelines each and deals in them, straight at the subgraphs."""
    world = []
    for n in range(TENANTS):
        subdomain = f"fan-{n}-" + uuid.uuid4().hex[:8]
        email, password = f"owner@{subdomain}.example.com", "benchmark password"
        bench.call("tenant", "mutation($i: RegisterOrganizationInput!) { registerOrganization(input: $i) { tenant { id } } }",
                   {"i": {"name": f"Fan {n}", "subdomain": subdomain, "owner": {"email": email, "password": password, "name": "Fan"}}})
        # Several signed-in sessions per organization, as several people (or tabs) would have.
        tokens = [bench.call("auth", "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
                             {"i": {"email": email, "password": password, "subdomain": subdomain}})["login"]["accessToken"]
                  for _ in range(SESSIONS)]
        token = tokens[0]
        bench.call("deal", "mutation { createPipeline(input: { name: \"Renewals\" }) { id } }", None, token)
        for pipeline in bench.call("deal", "{ pipelines { id stages { id kind } } }", None, token)["pipelines"]:
            stages = [s["id"] for s in pipeline["stages"] if s["kind"] == "OPEN"]
            deals = [bench.call("deal", "mutation($i: CreateDealInput!) { createDeal(input: $i) { id } }",
                                {"i": {"title": f"Deal {d}", "pipelineId": pipeline["id"]}}, token)["createDeal"]["id"]
                     for d in range(DEALS_PER_PIPELINE)]
            world.append({"id": pipeline["id"], "token": token, "tokens": tokens, "stages": stages, "deals": deals,
                          "turn": 0})
    return world


async def move(pipeline):
    """Moves the pipeline's next deal to another open stage; (deal, version, sent at)."""
    deal = pipeline["deals"][pipeline["turn"] % len(pipeline["deals"])]
    stage = pipeline["stages"][(pipeline["turn"] // len(pipeline["deals"]) + 1) % len(pipeline["stages"])]
    pipeline["turn"] += 1
    sent = time.perf_counter()
    data = await asyncio.get_running_loop().run_in_executor(None, router_call, MOVE, {"id": deal, "s": stage}, pipeline["token"])
    return (deal, data["moveDeal"]["version"], sent)


async def warm_up(world, subscribers):
    """Moves a deal of each pipeline until all its subscribers have heard it."""
    for pipeline in world:
        listeners = [s for s in subscribers if s.pipeline == pipeline["id"] and not s.errors]
        for _ in range(10):
            deal, version, _ = await move(pipeline)
            deadline = time.perf_counter() + 3
            while time.perf_counter() < deadline and not all((deal, version) in s.heard for s in listeners):
                await asyncio.sleep(0.05)
            if all((deal, version) in s.heard for s in listeners):
                break
        else:
            print(f"   pipeline {pipeline['id']}: not every subscriber became live")


async def level(world, subscribers, processes, target, baseline):
    started = time.perf_counter()
    opening = asyncio.Semaphore(200)

    async def add(n):
        pipeline = world[n % len(world)]
        tokens = pipeline["tokens"]
        subscriber = Subscriber(pipeline["id"], tokens[(n // len(world)) % len(tokens)])
        async with opening:
            try:
                await subscriber.open()
            except (OSError, RuntimeError, asyncio.IncompleteReadError) as err:
                subscriber.errors.append(f"connect: {err}")
                return subscriber
        asyncio.ensure_future(subscriber.listen())
        return subscriber

    subscribers += await asyncio.gather(*(add(n) for n in range(len(subscribers), target)))
    failed = [s.errors[0] for s in subscribers if s.errors]
    print(f"== {target} subscribers connected in {time.perf_counter() - started:.1f} s ({len(failed)} failed"
          + (f", e.g. {str(failed[0])[:200]})" if failed else ")"))
    await warm_up(world, subscribers)
    await asyncio.sleep(2)
    memory = {name: rss_kib(process.pid) for name, process in processes.items()}

    moves = []
    ticks = int(SECONDS * 10)
    begin = time.perf_counter()
    pending = []
    for tick in range(ticks):
        pending.append(asyncio.ensure_future(move(world[tick % len(world)])))
        await asyncio.sleep(max(0.0, begin + (tick + 1) * 0.1 - time.perf_counter()))
    moves = await asyncio.gather(*pending)
    await asyncio.sleep(5)  # stragglers

    by_pipeline = {}
    for subscriber in subscribers:
        if not subscriber.errors:
            by_pipeline.setdefault(subscriber.pipeline, []).append(subscriber)
    owner = {deal: p["id"] for p in world for deal in p["deals"]}
    latencies, expected = [], 0
    for deal, version, sent in moves:
        listeners = by_pipeline.get(owner[deal], [])
        expected += len(listeners)
        latencies += [(s.heard[(deal, version)] - sent) * 1000 for s in listeners if (deal, version) in s.heard]
    latencies.sort()
    live = sum(len(v) for v in by_pipeline.values())
    p50 = latencies[len(latencies) // 2] if latencies else float("nan")
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)] if latencies else float("nan")
    print(f"   {len(moves)} moves in {SECONDS:.0f} s to {live} live subscribers: p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
          f"max {latencies[-1] if latencies else float('nan'):.1f} ms; delivered {len(latencies)} / expected {expected} "
          f"({100 * len(latencies) / max(expected, 1):.2f}%)")
    for name, kib in memory.items():
        grown = kib - baseline[name]
        print(f"   {name}: RSS {kib / 1024:.0f} MiB, {grown / max(target, 1):.1f} KiB per subscriber over the idle {baseline[name] / 1024:.0f} MiB")
    errors = [e for s in subscribers for e in s.errors]
    if errors:
        print(f"   {len(errors)} subscriber errors, e.g. {str(errors[0])[:300]}")


async def run(world, processes):
    baseline = {name: rss_kib(process.pid) for name, process in processes.items()}
    subscribers = []
    for target in LEVELS:
        await level(world, subscribers, processes, target, baseline)


def main():
    if not os.path.exists(CRM_RELEASE):
        sys.exit(f"{CRM_RELEASE} is missing: cargo build --release -p crm")
    more_files()
    env = {**os.environ, "DATABASE_URL": f"{bench.PG}/{bench.DB}",
           "JWKS_URL": f"http://127.0.0.1:{bench.PORTS['auth']}/.well-known/jwks.json", "LOG_LEVEL": "warn"}
    subprocess.run([bench.CRM_BIN, "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
    processes = bench.start(env)
    try:
        processes["router"] = start_router(env)
        world = setup()
        print(f"== {TENANTS} organizations, {len(world)} pipelines, one move per 100 ms for {SECONDS:.0f} s per level")
        asyncio.run(run(world, {"router": processes["router"], "deal": processes["deal"]}))
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.terminate()
                process.wait()
        subprocess.run(["psql", f"{bench.PG}/postgres", "-qc", f'DROP DATABASE IF EXISTS "{bench.DB}" WITH (FORCE)'],
                       check=False)


if __name__ == "__main__":
    main()
