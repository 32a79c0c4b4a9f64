//! The seed's `user.created` flow: durable JetStream consumers give every newcomer default
//! preferences in the organization they arrived in, exactly once, and only there (T10).

use std::time::Duration;

use crm_entities::events::tenancy::UserCreated;
use crm_platform::consumer::{self, Outcome};
use crm_platform::events::{Envelope, subject};
use crm_platform::ids::UserId;
use crm_platform::{Role, TenantId};
use crm_testkit::{Org, TestStack, link_token, mint_role_token, outbox_events};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::CRM;
const MINE: &str = "{ myPreferences { emailNotifications digest timezone locale } }";
const UPDATE: &str = "mutation($i: UpdateMyPreferencesInput!) {
    updateMyPreferences(input: $i) { emailNotifications digest timezone locale } }";

/// How many preference rows `user` has in `org`'s schema, read inside that tenant's scope.
async fn preference_rows(stack: &TestStack, org: &Org, user: &str) -> i64 {
    let user = uuid::Uuid::parse_str(user).expect("user id");
    stack.count_in(org, "SELECT count(*) FROM user_preferences WHERE user_id = $1", vec![user.into()]).await
}

async fn processed(stack: &TestStack, org: &Org, event: &Envelope) -> bool {
    let sql = "SELECT count(*) FROM processed_events WHERE event_id = $1";
    stack.count_in(org, sql, vec![event.id.into_uuid().into()]).await > 0
}

/// Consumers run in the background: what they do shows within seconds.
async fn eventually(what: &str, check: impl AsyncFnMut() -> bool) {
    crm_testkit::eventually(what, Duration::from_secs(15), check).await;
}

fn arrival(tenant: TenantId, user: &str) -> Envelope {
    let user_id = UserId(uuid::Uuid::parse_str(user).expect("user id"));
    Envelope::new(tenant, None, &UserCreated { user_id, role: Role::Owner }).expect("envelope")
}

/// One test, so one set of consumers serves it from start to end (a consumer that stops holds
/// its prefetched messages until their ack wait runs out).
#[tokio::test]
async fn arrivals_get_default_preferences_once_and_only_in_their_own_organization() {
    let stack = TestStack::with_router(CRM).await;
    // Every organization of this run's database was provisioned with the whole template, so
    // the consumers' tables exist (no `crm migrate`, which would also touch other tests' tenants).
    let shutdown = CancellationToken::new();
    for consumer in crm_tenant::preferences::CONSUMERS {
        tokio::spawn(consumer::run(
            stack.db.clone(),
            stack.services.nats.clone(),
            consumer,
            shutdown.clone(),
        ));
    }

    // A new organization's owner (`user.created`).
    let a = stack.register_org("Prefs A").await;
    let b = stack.register_org("Prefs B").await;
    eventually("owner defaults", async || preference_rows(&stack, &a, &a.user_id).await == 1).await;

    // An existing identity joining a second organization (`tenant.user_joined`) gets a separate
    // row there; its own organization's row is untouched.
    stack
        .subgraph(
            "tenant",
            Some(&a.token),
            "mutation($i: InviteUserInput!) { inviteUser(input: $i) { id } }",
            json!({ "i": { "email": b.email, "role": "VIEWER" } }),
        )
        .await
        .ok();
    let invited = outbox_events(&stack, &a.tenant_id, "tenant.user_invited").await;
    let token = link_token(invited[0]["data"]["accept_url"].as_str().expect("link"));
    stack
        .subgraph(
            "tenant",
            None,
            "mutation($i: AcceptInvitationInput!) { acceptInvitation(input: $i) { tenant { id } } }",
            json!({ "i": { "token": token, "password": b.password } }),
        )
        .await
        .ok();
    eventually("joiner defaults", async || preference_rows(&stack, &a, &b.user_id).await == 1).await;
    assert_eq!(preference_rows(&stack, &b, &b.user_id).await, 1);

    // Through the router, as a client: defaults, a change, a refused change that loses nothing,
    // and a return to the organization's timezone.
    let mine = stack.router(Some(&a.token), MINE, json!({})).await;
    assert_eq!(
        mine.ok()["myPreferences"],
        json!({ "emailNotifications": true, "digest": "WEEKLY", "timezone": null, "locale": null })
    );
    let changed = stack
        .router(Some(&a.token), UPDATE, json!({ "i": { "digest": "DAILY", "timezone": "Europe/Paris" } }))
        .await;
    assert_eq!(changed.ok()["updateMyPreferences"]["timezone"], "Europe/Paris");
    let refused = stack
        .router(Some(&a.token), UPDATE, json!({ "i": { "digest": "NEVER", "timezone": "Mars/Olympus" } }))
        .await;
    assert_eq!(refused.error_codes(), ["BAD_USER_INPUT"]);
    let bad_locale = stack.router(Some(&a.token), UPDATE, json!({ "i": { "locale": "english" } })).await;
    assert_eq!(bad_locale.error_codes(), ["BAD_USER_INPUT"]);
    let after = stack.router(Some(&a.token), MINE, json!({})).await;
    assert_eq!(after.ok()["myPreferences"]["digest"], "DAILY", "the refused change applied nothing");
    let reset = stack.router(Some(&a.token), UPDATE, json!({ "i": { "timezone": null } })).await;
    assert_eq!(reset.ok()["updateMyPreferences"]["timezone"], json!(null));
    assert_eq!(reset.ok()["updateMyPreferences"]["digest"], "DAILY", "omitted fields keep their value");
    // Personal, not CRM data: a viewer may change their own.
    let viewer = mint_role_token(&stack, &a, "viewer").await;
    stack.router(Some(&viewer), UPDATE, json!({ "i": { "emailNotifications": false } })).await.ok();
    // B's owner still has B's defaults: preferences are per organization.
    let b_mine = stack.router(Some(&b.token), MINE, json!({})).await;
    assert_eq!(b_mine.ok()["myPreferences"]["digest"], "WEEKLY");

    // A member who is removed takes their preferences along; their own organization keeps its.
    stack
        .router(Some(&a.token), "mutation($u: ID!) { removeMember(userId: $u) }", json!({ "u": b.user_id }))
        .await
        .ok();
    assert_eq!(preference_rows(&stack, &a, &b.user_id).await, 0);
    assert_eq!(preference_rows(&stack, &b, &b.user_id).await, 1);

    // T10: a message for A that names a user of another organization writes nothing anywhere.
    let c = stack.register_org("Prefs C").await;
    eventually("C owner defaults", async || preference_rows(&stack, &c, &c.user_id).await == 1).await;
    let forged = arrival(a.tenant(), &c.user_id);
    let js = async_nats::jetstream::new(stack.services.nats.clone());
    js.publish(forged.subject(), serde_json::to_vec(&forged).expect("json").into())
        .await
        .expect("publish")
        .await
        .expect("ack");
    eventually("forged event consumed", async || processed(&stack, &a, &forged).await).await;
    assert_eq!(preference_rows(&stack, &a, &c.user_id).await, 0, "no row for a non-member");
    assert_eq!(preference_rows(&stack, &c, &c.user_id).await, 1);

    // The tenant is the subject's; an envelope naming another tenant, or a subject of another
    // type, is refused before any SQL.
    let [created, _] = crm_tenant::preferences::CONSUMERS;
    let envelope_for_c = serde_json::to_vec(&arrival(c.tenant(), &c.user_id)).expect("json");
    for wrong_subject in [subject(a.tenant(), "user.created"), subject(c.tenant(), "tenant.user_joined")] {
        let outcome = consumer::process(&stack.db, created, &wrong_subject, &envelope_for_c).await;
        assert_eq!(outcome.expect("processed"), Outcome::Rejected, "{wrong_subject}");
    }
    let garbage = consumer::process(&stack.db, created, &subject(a.tenant(), "user.created"), b"{").await;
    assert_eq!(garbage.expect("processed"), Outcome::Rejected);

    // A redelivery does nothing the second time.
    let again = arrival(a.tenant(), &a.user_id);
    let payload = serde_json::to_vec(&again).expect("json");
    let first = consumer::process(&stack.db, created, &again.subject(), &payload).await.expect("first");
    let second = consumer::process(&stack.db, created, &again.subject(), &payload).await.expect("second");
    assert_eq!((first, second), (Outcome::Handled, Outcome::Duplicate));

    // A deleted organization's events are acknowledged and skipped.
    stack
        .subgraph(
            "tenant",
            Some(&c.token),
            "mutation($s: String!) { deleteOrganization(confirmSubdomain: $s) }",
            json!({ "s": c.subdomain }),
        )
        .await
        .ok();
    let late = arrival(c.tenant(), &c.user_id);
    let outcome =
        consumer::process(&stack.db, created, &late.subject(), &serde_json::to_vec(&late).expect("json"))
            .await
            .expect("processed");
    assert_eq!(outcome, Outcome::TenantGone);
    shutdown.cancel();
}
