#!/usr/bin/env python3
"""Side channels: does the answer's timing tell a caller something it may not learn?

Usage: timing.py [N] [URL]   (defaults: 200 samples per case, the router at
http://127.0.0.1:4000/graphql; run against `crm up` from a release build).

Compares, request by request interleaved so drift hits both sides alike:
  A10  forgotPassword for an existing account vs an unknown address
  A14  login with a wrong password for an existing account vs an unknown address
  T9   contact(id) with another organization's contact id vs an id that never existed
and prints p50/p90/p99 for each side plus whether the response bodies were identical.

Every request carries its own X-Forwarded-For, as if from many clients (the router believes it
from loopback, its default trusted proxy), so per-address limits do not interfere; login samples
spread over enough accounts to stay under the per-account limit.
"""
import json
import random
import statistics
import sys
import time
import urllib.request
import uuid

URL = sys.argv[2] if len(sys.argv) > 2 else "http://127.0.0.1:4000/graphql"
N = int(sys.argv[1]) if len(sys.argv) > 1 else 200


def post(query, variables, token=None):
    headers = {
        "content-type": "application/json",
        "x-forwarded-for": f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}",
    }
    if token:
        headers["authorization"] = f"Bearer {token}"
    body = json.dumps({"query": query, "variables": variables}).encode()
    started = time.perf_counter()
    with urllib.request.urlopen(urllib.request.Request(URL, body, headers)) as response:
        text = response.read()
    return (time.perf_counter() - started) * 1000, json.loads(text)


def register(tag):
    subdomain = f"timing-{tag}-{uuid.uuid4().hex[:8]}"
    email = f"owner@{subdomain}.example.com"
    _, result = post(
        "mutation($i: RegisterOrganizationInput!) { registerOrganization(input: $i) { tenant { id } } }",
        {"i": {"name": "Timing", "subdomain": subdomain,
               "owner": {"email": email, "password": "timing password 1", "name": "Owner"}}},
    )
    assert not result.get("errors"), result
    _, result = post(
        "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
        {"i": {"email": email, "password": "timing password 1", "subdomain": subdomain}},
    )
    return subdomain, email, result["data"]["login"]["accessToken"]


def pct(samples, p):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def report(name, left_label, right_label, pairs):
    left = [p[0][0] for p in pairs]
    right = [p[1][0] for p in pairs]
    same = all(json.dumps(a[1], sort_keys=True) == json.dumps(b[1], sort_keys=True) for a, b in pairs)
    print(f"{name}  ({len(pairs)} pairs; bodies identical: {'yes' if same else 'NO'})")
    for label, samples in ((left_label, left), (right_label, right)):
        print(f"    {label:<28} p50 {statistics.median(samples):6.2f} ms  p90 {pct(samples, 0.9):6.2f} ms"
              f"  p99 {pct(samples, 0.99):6.2f} ms")
    print(f"    p50 difference {statistics.median(left) - statistics.median(right):+.2f} ms")


def main():
    subdomain, email, token = register("a")
    _, _, other_token = register("b")
    _, created = post("mutation { createContact(input: { firstName: \"Theirs\" }) { id } }", {}, other_token)
    foreign_id = created["data"]["createContact"]["id"]

    forgot = "mutation($i: ForgotPasswordInput!) { forgotPassword(input: $i) }"
    pairs = []
    for _ in range(N):
        known = post(forgot, {"i": {"email": email, "subdomain": subdomain}})
        unknown = post(forgot, {"i": {"email": f"{uuid.uuid4().hex[:10]}@example.com", "subdomain": subdomain}})
        pairs.append((known, unknown))
    report("A10 forgotPassword", "existing account", "unknown address", pairs)

    # Nine wrong attempts per account stay under its limit of ten.
    login = "mutation($i: LoginInput!) { login(input: $i) { accessToken } }"
    accounts = [register(f"l{n}") for n in range((N + 8) // 9)]
    pairs = []
    for n in range(N):
        sub, mail, _ = accounts[n // 9]
        wrong = post(login, {"i": {"email": mail, "password": "not the password", "subdomain": sub}})
        unknown = post(login, {"i": {"email": f"{uuid.uuid4().hex[:10]}@example.com", "password": "x" * 16,
                                     "subdomain": sub}})
        pairs.append((wrong, unknown))
    report("A14 login", "existing, wrong password", "unknown address", pairs)

    query = "query($id: ID!) { contact(id: $id) { id firstName } }"
    pairs = []
    for _ in range(N):
        theirs = post(query, {"id": foreign_id}, token)
        missing = post(query, {"id": str(uuid.uuid4())}, token)
        pairs.append((theirs, missing))
    report("T9 contact(id)", "another tenant's id", "id that never existed", pairs)


if __name__ == "__main__":
    main()
