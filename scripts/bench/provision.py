#!/usr/bin/env python3
"""Provisioning latency: registers N organizations one after another and prints p50/p95.

Usage: provision.py [N] [URL]   (defaults: 200, the router at http://127.0.0.1:4000/graphql)
Each registration hashes the owner's password, creates the tenant schema from the template and
seeds the default pipeline, in one transaction.
"""
import json
import statistics
import sys
import time
import urllib.request
import uuid

QUERY = "mutation($i: RegisterOrganizationInput!) { registerOrganization(input: $i) { tenant { id } } }"


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    url = sys.argv[2] if len(sys.argv) > 2 else "http://127.0.0.1:4000/graphql"
    batch = uuid.uuid4().hex[:8]
    timings = []
    for n in range(count):
        subdomain = f"prov-{batch}-{n}"
        body = json.dumps({"query": QUERY, "variables": {"i": {
            "name": f"Org {n}", "subdomain": subdomain,
            "owner": {"email": f"owner@{subdomain}.example.com", "password": "benchmark password", "name": "Owner"},
        }}}).encode()
        # A client address per registration (the router believes X-Forwarded-For from loopback):
        # one address may register only ten organizations an hour.
        headers = {"content-type": "application/json", "x-forwarded-for": f"10.77.{n // 250}.{n % 250 + 1}"}
        request = urllib.request.Request(url, body, headers)
        started = time.perf_counter()
        with urllib.request.urlopen(request) as response:
            result = json.load(response)
        timings.append((time.perf_counter() - started) * 1000)
        if result.get("errors"):
            sys.exit(f"registration {n} failed: {result['errors']}")
    timings.sort()
    p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
    print(f"registrations {count}  p50 {statistics.median(timings):.1f} ms  p95 {p95:.1f} ms  max {timings[-1]:.1f} ms")


if __name__ == "__main__":
    main()
