//! Members: listing, role changes, removal and leaving, with the last owner protected and changed
//! members signed out at once.

use crm_testkit::{Org, TestStack, link_token, outbox_events};
use serde_json::json;

/// Invites `email` with `role`, accepts as a new identity, and signs in: returns (user id, token).
async fn add_member(stack: &TestStack, org: &Org, email: &str, role: &str) -> (String, String) {
    stack
        .subgraph(
            "tenant",
            Some(&org.token),
            "mutation($i: InviteUserInput!) { inviteUser(input: $i) { id } }",
            json!({ "i": { "email": email, "role": role } }),
        )
        .await
        .ok();
    let events = outbox_events(stack, &org.tenant_id, "tenant.user_invited").await;
    let event = events.iter().rev().find(|e| e["data"]["email"] == email).expect("an invitation event");
    let token = link_token(event["data"]["accept_url"].as_str().expect("link"));
    let accepted = stack
        .subgraph(
            "tenant",
            None,
            "mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { user { id } } }",
            json!({ "i": { "token": token, "name": email, "password": "member password 1" } }),
        )
        .await;
    let id = accepted.ok()["acceptInvitation"]["user"]["id"].as_str().expect("id").to_owned();
    (id, stack.login(email, "member password 1", &org.subdomain).await)
}

const ROLE: &str = "mutation($u: ID!, $r: Role!) { updateMemberRole(userId: $u, role: $r) { role } }";
const REMOVE: &str = "mutation($u: ID!) { removeMember(userId: $u) }";

fn codes(response: &crm_testkit::GraphqlResponse) -> Vec<String> {
    response.error_codes()
}

#[tokio::test]
async fn member_management_protects_the_last_owner() {
    let stack = TestStack::subgraphs().await;
    let org = stack.register_org("Members").await;
    let (admin_id, admin) =
        add_member(&stack, &org, &format!("admin@{}.example.com", org.subdomain), "ADMIN").await;
    let (member_id, member) =
        add_member(&stack, &org, &format!("member@{}.example.com", org.subdomain), "MEMBER").await;

    let listed =
        stack.subgraph("tenant", Some(&member), "{ tenantUsers { role user { email } } }", json!({})).await;
    let roles: Vec<&str> = listed.ok()["tenantUsers"]
        .as_array()
        .expect("list")
        .iter()
        .map(|m| m["role"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(roles, ["OWNER", "ADMIN", "MEMBER"]);

    // An admin manages members, and the change applies at once.
    let demoted =
        stack.subgraph("tenant", Some(&admin), ROLE, json!({ "u": member_id, "r": "VIEWER" })).await;
    assert_eq!(demoted.ok()["updateMemberRole"]["role"], "VIEWER");
    let stale = stack.subgraph("auth", Some(&member), "{ me { role } }", json!({})).await;
    assert_eq!(codes(&stale), ["UNAUTHENTICATED"], "the old token (old role) is signed out");

    // ...but not owners.
    assert_eq!(
        codes(
            &stack.subgraph("tenant", Some(&admin), ROLE, json!({ "u": org.user_id, "r": "MEMBER" })).await
        ),
        ["FORBIDDEN"]
    );
    assert_eq!(
        codes(&stack.subgraph("tenant", Some(&admin), ROLE, json!({ "u": member_id, "r": "OWNER" })).await),
        ["FORBIDDEN"]
    );
    assert_eq!(
        codes(&stack.subgraph("tenant", Some(&admin), REMOVE, json!({ "u": org.user_id })).await),
        ["FORBIDDEN"]
    );

    // The last owner can be neither demoted, removed, nor leave.
    assert_eq!(
        codes(
            &stack
                .subgraph("tenant", Some(&org.token), ROLE, json!({ "u": org.user_id, "r": "ADMIN" }))
                .await
        ),
        ["CONFLICT"]
    );
    assert_eq!(
        codes(&stack.subgraph("tenant", Some(&org.token), REMOVE, json!({ "u": org.user_id })).await),
        ["CONFLICT"]
    );
    let leave = "mutation { leaveOrganization }";
    assert_eq!(codes(&stack.subgraph("tenant", Some(&org.token), leave, json!({})).await), ["CONFLICT"]);

    // With a second owner, the first may leave.
    let promoted =
        stack.subgraph("tenant", Some(&org.token), ROLE, json!({ "u": admin_id, "r": "OWNER" })).await;
    assert_eq!(promoted.ok()["updateMemberRole"]["role"], "OWNER");
    assert_eq!(
        stack.subgraph("tenant", Some(&org.token), leave, json!({})).await.ok()["leaveOrganization"],
        true
    );
    assert_eq!(
        codes(&stack.subgraph("tenant", Some(&org.token), "{ currentTenant { id } }", json!({})).await),
        ["UNAUTHENTICATED"]
    );

    // The new owner removes the viewer, who can no longer sign in here.
    let new_owner = stack
        .login(&format!("admin@{}.example.com", org.subdomain), "member password 1", &org.subdomain)
        .await;
    assert_eq!(
        stack.subgraph("tenant", Some(&new_owner), REMOVE, json!({ "u": member_id })).await.ok()["removeMember"],
        true
    );
    let login = stack
        .subgraph(
            "auth",
            None,
            "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
            json!({ "i": { "email": format!("member@{}.example.com", org.subdomain), "password": "member password 1", "subdomain": org.subdomain } }),
        )
        .await;
    assert_eq!(codes(&login), ["UNAUTHENTICATED"]);
}
