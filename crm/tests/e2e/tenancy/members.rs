//! Members: listing, role changes, removal and leaving, with the last owner protected and changed
//! members signed out at once.

use crm_testkit::{MEMBER_PASSWORD, TestStack};
use serde_json::json;

const ROLE: &str = "mutation($u: ID!, $r: Role!) { updateMemberRole(userId: $u, role: $r) { role } }";
const REMOVE: &str = "mutation($u: ID!) { removeMember(userId: $u) }";

#[tokio::test]
async fn member_management_protects_the_last_owner() {
    let stack = TestStack::subgraphs().await;
    let team = stack.team("Members").await;
    let org = &team.owner;
    let (admin_id, admin) = (&team.admin.user_id, &team.admin.token);
    let (member_id, member) = (&team.member.user_id, &team.member.token);

    let listed =
        stack.subgraph("tenant", Some(member), "{ tenantUsers { role user { email } } }", json!({})).await;
    let roles: Vec<&str> = listed.ok()["tenantUsers"]
        .as_array()
        .expect("list")
        .iter()
        .map(|m| m["role"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(roles, ["OWNER", "ADMIN", "MEMBER", "VIEWER"]);

    // An admin manages members, and the change applies at once.
    let demoted = stack.subgraph("tenant", Some(admin), ROLE, json!({ "u": member_id, "r": "VIEWER" })).await;
    assert_eq!(demoted.ok()["updateMemberRole"]["role"], "VIEWER");
    let stale = stack.subgraph("auth", Some(member), "{ me { role } }", json!({})).await;
    assert_eq!(stale.error_codes(), ["UNAUTHENTICATED"], "the old token (old role) is signed out");

    // ...but not owners.
    assert_eq!(
        stack
            .subgraph("tenant", Some(admin), ROLE, json!({ "u": org.user_id, "r": "MEMBER" }))
            .await
            .error_codes(),
        ["FORBIDDEN"]
    );
    assert_eq!(
        stack
            .subgraph("tenant", Some(admin), ROLE, json!({ "u": member_id, "r": "OWNER" }))
            .await
            .error_codes(),
        ["FORBIDDEN"]
    );
    assert_eq!(
        stack.subgraph("tenant", Some(admin), REMOVE, json!({ "u": org.user_id })).await.error_codes(),
        ["FORBIDDEN"]
    );

    // The last owner can be neither demoted, removed, nor leave.
    assert_eq!(
        stack
            .subgraph("tenant", Some(&org.token), ROLE, json!({ "u": org.user_id, "r": "ADMIN" }))
            .await
            .error_codes(),
        ["CONFLICT"]
    );
    assert_eq!(
        stack.subgraph("tenant", Some(&org.token), REMOVE, json!({ "u": org.user_id })).await.error_codes(),
        ["CONFLICT"]
    );
    let leave = "mutation { leaveOrganization }";
    assert_eq!(
        stack.subgraph("tenant", Some(&org.token), leave, json!({})).await.error_codes(),
        ["CONFLICT"]
    );

    // With a second owner, the first may leave.
    let promoted =
        stack.subgraph("tenant", Some(&org.token), ROLE, json!({ "u": admin_id, "r": "OWNER" })).await;
    assert_eq!(promoted.ok()["updateMemberRole"]["role"], "OWNER");
    assert_eq!(
        stack.subgraph("tenant", Some(&org.token), leave, json!({})).await.ok()["leaveOrganization"],
        true
    );
    assert_eq!(
        stack.subgraph("tenant", Some(&org.token), "{ currentTenant { id } }", json!({})).await.error_codes(),
        ["UNAUTHENTICATED"]
    );

    // The new owner removes the viewer, who can no longer sign in here.
    let new_owner = stack.login(&team.admin.email, MEMBER_PASSWORD, &org.subdomain).await;
    assert_eq!(
        stack.subgraph("tenant", Some(&new_owner), REMOVE, json!({ "u": member_id })).await.ok()["removeMember"],
        true
    );
    let login = stack
        .subgraph(
            "auth",
            None,
            "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
            json!({ "i": { "email": team.member.email, "password": MEMBER_PASSWORD, "subdomain": org.subdomain } }),
        )
        .await;
    assert_eq!(login.error_codes(), ["UNAUTHENTICATED"]);
}
