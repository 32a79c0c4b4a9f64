#!/usr/bin/env python3
"""Seeds one organization for the load benchmark through the router and prints its token.

Usage: seed.py ROUTER_URL CONTACTS
Creates CONTACTS contacts, each with one deal carrying two activities.
"""
import json
import sys
import urllib.request
import uuid


def call(url, query, variables, token=None):
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    body = json.dumps({"query": query, "variables": variables}).encode()
    with urllib.request.urlopen(urllib.request.Request(url, body, headers)) as response:
        result = json.load(response)
    if result.get("errors"):
        sys.exit(f"GraphQL error: {result['errors']}")
    return result["data"]


def main():
    url, contacts = sys.argv[1], int(sys.argv[2])
    subdomain = "bench-" + uuid.uuid4().hex[:12]
    email = f"owner@{subdomain}.example.com"
    password = "benchmark password"
    call(url, "mutation($i: RegisterOrganizationInput!) { registerOrganization(input: $i) { tenant { id } } }",
         {"i": {"name": "Bench", "subdomain": subdomain, "owner": {"email": email, "password": password, "name": "Bench"}}})
    token = call(url, "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
                 {"i": {"email": email, "password": password, "subdomain": subdomain}})["login"]["accessToken"]
    for n in range(contacts):
        contact = call(url, "mutation($i: CreateContactInput!) { createContact(input: $i) { id } }",
                       {"i": {"firstName": f"Contact {n}"}}, token)["createContact"]["id"]
        deal = call(url, "mutation($i: CreateDealInput!) { createDeal(input: $i) { id } }",
                    {"i": {"title": f"Deal {n}", "currency": "USD", "contactIds": [contact]}}, token)["createDeal"]["id"]
        for subject in ("call", "note"):
            call(url, "mutation($i: LogActivityInput!) { logActivity(input: $i) { id } }",
                 {"i": {"type": "NOTE", "subject": subject, "dealId": deal}}, token)
    print(token)


if __name__ == "__main__":
    main()
