#!/usr/bin/env python3
"""Mail drain: 1,000 emails queued through `sendEmail`, delivered over SMTP to a local server.

Usage: scripts/bench/mail.py [EMAILS]       (default 1000)

Runs the auth, tenant and communication subgraphs from BIN_DIR (default: $CARGO_TARGET_DIR/release
or target/release; `cargo build --release -p crm-auth -p crm-tenant -p crm-communication`) on a
database of its own (dropped at the end), ports 18080/18081/18084, and the test SMTP server
(testkit/smtp_server.py, aiosmtpd) on 18025, against PostgreSQL, NATS and Redis on their usual
local ports.

Two runs, each on a fresh organization:
  1. undisturbed: EMAILS are queued by 8 concurrent clients; prints the time from the first
     `sendEmail` to the last message the SMTP server stored, and emails/s;
  2. killed twice: the same, but the communication subgraph (the sender) is SIGKILLed when a
     third and again when two thirds of the mail has arrived, and started again at once.
Both print what the SMTP server received: distinct Message-IDs, duplicates, missing, and how
many emails the database holds as SENT, SENT with `deliveryUnconfirmed` (the sender died
between handing a message over and hearing the reply: counted as sent, never sent again) and
not yet sent.
"""
import concurrent.futures
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import contacts as bench  # noqa: E402  (the shared helpers: processes, calls)

EMAILS = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
SMTP_PORT = 18025
CLIENTS = 8
bench.PORTS.clear()
bench.PORTS.update({"auth": 18080, "tenant": 18081, "communication": 18084})
SMTP_SERVER = os.path.join(bench.ROOT, "testkit", "smtp_server.py")
SEND = "mutation($i: SendEmailInput!) { sendEmail(input: $i) { id } }"


def start_smtp(directory):
    process = subprocess.Popen([sys.executable, SMTP_SERVER, directory, "accept", "--port", str(SMTP_PORT)],
                               stdout=subprocess.PIPE, text=True)
    if not process.stdout.readline().startswith("port"):
        sys.exit("the SMTP server did not start (pip install aiosmtpd)")
    return process


def received(directory, domain):
    """Message-IDs of what the server stored for addresses at `domain`."""
    ids = []
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".eml"):
            continue
        with open(os.path.join(directory, name), "rb") as message:
            if domain.encode() not in message.readline():
                continue
            for line in message:
                if line.lower().startswith(b"message-id:"):
                    ids.append(line.split(b":", 1)[1].strip().decode())
                    break
                if line in (b"\r\n", b"\n"):
                    break
    return ids


def start_communication(env):
    binary = os.path.join(bench.BIN_DIR, "crm-communication")
    process = subprocess.Popen([binary], env={**env, "PORT": str(bench.PORTS["communication"])})
    bench.wait_live("communication")
    return process


def organization():
    subdomain = "mail-" + uuid.uuid4().hex[:10]
    email, password = f"owner@{subdomain}.example.com", "benchmark password"
    tenant = bench.call("tenant", "mutation($i: RegisterOrganizationInput!) { registerOrganization(input: $i) { tenant { id } } }",
                        {"i": {"name": "Mail bench", "subdomain": subdomain, "owner": {"email": email, "password": password, "name": "Bench"}}})
    token = bench.call("auth", "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
                       {"i": {"email": email, "password": password, "subdomain": subdomain}})["login"]["accessToken"]
    return tenant["registerOrganization"]["tenant"]["id"], token, subdomain


def queue_all(token, subdomain):
    def send(n):
        to = f"reader{n}@{subdomain}.example.test"
        bench.call("communication", SEND, {"i": {"to": to, "subject": f"Newsletter {n}", "text": f"Issue {n}"}}, token)
    with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(send, range(EMAILS)))


def statuses(tenant_id):
    schema = "tenant_" + tenant_id.replace("-", "")
    sql = (f"SELECT status, delivery_unconfirmed, count(*) FROM {schema}.emails WHERE purpose = 'crm' "
           "GROUP BY 1, 2 ORDER BY 1, 2")
    out = subprocess.run(["psql", f"{bench.PG}/{bench.DB}", "-Atc", sql], capture_output=True, text=True, check=True)
    return {(row.split("|")[0], row.split("|")[1] == "t"): int(row.split("|")[2]) for row in out.stdout.split()}


def pending(tenant_id):
    """Emails not yet settled (queued, or an attempt under way)."""
    by_status = statuses(tenant_id)
    return sum(n for (status, _), n in by_status.items() if status in ("queued", "sending", "delivering"))


def run(env, kills, communication):
    """One drain, with the communication subgraph (the sender) `communication`, stopped after."""
    directory = tempfile.mkdtemp(prefix="crm-bench-smtp-")
    smtp = start_smtp(directory)
    try:
        tenant_id, token, subdomain = organization()
        domain = f"@{subdomain}.example.test"
        started = time.monotonic()
        queue_all(token, subdomain)
        queued_in = time.monotonic() - started
        thresholds = [EMAILS * (k + 1) // (kills + 1) for k in range(kills)]
        killed = 0
        next_check = time.monotonic()
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            count = len(received(directory, domain))
            if killed < kills and count >= thresholds[killed]:
                communication.send_signal(signal.SIGKILL)
                communication.wait()
                communication = start_communication(env)
                killed += 1
            if count >= EMAILS:
                break
            # Once every email is settled, nothing more will arrive (a lost one stays lost).
            if killed == kills and time.monotonic() >= next_check:
                next_check = time.monotonic() + 1
                if not pending(tenant_id):
                    break
            time.sleep(0.02)
        drained_in = time.monotonic() - started
        time.sleep(2)  # anything sent twice would arrive now
        ids = received(directory, domain)
        distinct = len(set(ids))
        by_status = statuses(tenant_id)
        label = f"killed {kills}× mid-drain" if kills else "undisturbed"
        print(f"== {label}: {EMAILS} emails")
        print(f"   queued through sendEmail in {queued_in:.1f} s ({EMAILS / queued_in:.0f}/s, {CLIENTS} clients)")
        print(f"   first send → last stored: {drained_in:.1f} s, {EMAILS / drained_in:.0f} emails/s")
        print(f"   SMTP server stored {len(ids)} messages: {distinct} distinct Message-IDs, "
              f"{len(ids) - distinct} duplicates, {EMAILS - distinct} missing")
        print(f"   database: {by_status}")
    finally:
        communication.terminate()
        communication.wait()
        smtp.terminate()
        smtp.wait()
        shutil.rmtree(directory, ignore_errors=True)


def main():
    env = {**os.environ, "DATABASE_URL": f"{bench.PG}/{bench.DB}",
           "JWKS_URL": f"http://127.0.0.1:{bench.PORTS['auth']}/.well-known/jwks.json", "LOG_LEVEL": "warn",
           "SMTP_URL": f"smtp://127.0.0.1:{SMTP_PORT}?tls=none", "MAIL_FROM": "Bench <bench@mtenant.test>",
           "MAIL_RETRY_SECS": "1"}
    subprocess.run([bench.CRM_BIN, "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
    print(f"binaries: {bench.BIN_DIR}")
    processes = bench.start(env)
    communication = processes.pop("communication")
    try:
        run(env, 0, communication)
        if not os.environ.get("BENCH_NO_KILLS"):
            run(env, 2, start_communication(env))
    finally:
        for process in processes.values():
            process.terminate()
            process.wait()
        bench.finish_database(bench.DB)


if __name__ == "__main__":
    main()
