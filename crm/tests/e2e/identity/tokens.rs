//! Access tokens: missing, tampered, expired or foreign tokens are UNAUTHENTICATED, through the
//! router and at each subgraph.

use chrono::Utc;
use crm_testkit::{TestStack, mint_token, mint_token_with};
use serde_json::json;

use crate::CRM;
const QUERY: &str = "{ contacts(first: 1) { edges { node { id } } } }";

fn claims(org: &crm_testkit::Org, exp_offset: i64) -> serde_json::Value {
    let now = Utc::now().timestamp();
    json!({
        "sub": org.user_id, "tenant": org.tenant_id, "role": "owner", "sid": uuid::Uuid::now_v7(),
        "iss": "mtenant-crm", "aud": "mtenant-crm-api", "iat": now - 1000, "nbf": now - 1000, "exp": now + exp_offset,
    })
}

#[tokio::test]
async fn bad_tokens_are_unauthenticated_everywhere() {
    let stack = TestStack::with_router(CRM).await;
    let org = stack.register_org("Tokens").await;

    let valid = mint_token(&stack, &claims(&org, 600)).await;
    let expired = mint_token(&stack, &claims(&org, -120)).await;
    let tampered = {
        // Same header and signature, a different payload: the signature no longer matches.
        let forged = mint_token(
            &stack,
            &json!({ "sub": org.user_id, "tenant": uuid::Uuid::now_v7(), "role": "owner" }),
        )
        .await;
        let parts: Vec<&str> = org.token.split('.').collect();
        let forged_payload = forged.split('.').nth(1).expect("payload");
        format!("{}.{}.{}", parts[0], forged_payload, parts[2])
    };
    let wrong_audience = {
        let mut c = claims(&org, 600);
        c["aud"] = json!("someone-else");
        mint_token(&stack, &c).await
    };
    let unsigned = {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.",
            b64.encode(r#"{"alg":"none","typ":"JWT"}"#),
            b64.encode(claims(&org, 600).to_string())
        )
    };

    // The minted valid token works, so the rejections below are about the defects alone.
    stack.router(Some(&valid), QUERY, json!({})).await.ok();

    let with = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut c = claims(&org, 600);
        edit(&mut c);
        c
    };
    let future_nbf = mint_token(&stack, &with(&|c| c["nbf"] = json!(Utc::now().timestamp() + 600))).await;
    let string_exp =
        mint_token(&stack, &with(&|c| c["exp"] = json!((Utc::now().timestamp() + 600).to_string()))).await;
    let missing_exp = mint_token(&stack, &with(&|c| drop(c.as_object_mut().map(|o| o.remove("exp"))))).await;
    let wrong_issuer = mint_token(&stack, &with(&|c| c["iss"] = json!("someone-else"))).await;
    let unknown_kid = mint_token_with(&stack, Some("no-such-key"), &claims(&org, 600)).await;
    let hs256_confusion = {
        // Key confusion (A2): HMAC-sign with the public key, as an attacker could.
        let jwks: serde_json::Value =
            reqwest::get(format!("{}/.well-known/jwks.json", stack.subgraph_url("auth")))
                .await
                .expect("jwks")
                .json()
                .await
                .expect("json");
        let key = &jwks["keys"][0];
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = key["kid"].as_str().map(str::to_owned);
        let secret = key["x"].as_str().expect("x").as_bytes().to_vec();
        jsonwebtoken::encode(&header, &claims(&org, 600), &jsonwebtoken::EncodingKey::from_secret(&secret))
            .expect("sign")
    };
    let two_segments = valid.rsplit_once('.').map(|(head, _)| head.to_owned()).expect("two segments");

    for (label, token) in [
        ("no token", None),
        ("nbf in the future", Some(future_nbf.as_str())),
        ("exp as a string", Some(string_exp.as_str())),
        ("missing exp", Some(missing_exp.as_str())),
        ("wrong issuer", Some(wrong_issuer.as_str())),
        ("unknown kid", Some(unknown_kid.as_str())),
        ("HS256 with the public key", Some(hs256_confusion.as_str())),
        ("two segments", Some(two_segments.as_str())),
        ("expired", Some(expired.as_str())),
        ("tampered", Some(tampered.as_str())),
        ("wrong audience", Some(wrong_audience.as_str())),
        ("alg none", Some(unsigned.as_str())),
        ("garbage", Some("not-a-jwt")),
    ] {
        let through_router = stack.router(token, QUERY, json!({})).await;
        assert_eq!(
            through_router.error_codes(),
            ["UNAUTHENTICATED"],
            "{label} via router: {:?}",
            through_router.body
        );
        assert!(
            through_router.body["data"].is_null() || through_router.body["data"]["contacts"].is_null(),
            "{label}"
        );
        for subgraph in ["contact", "deal", "communication", "tenant", "auth"] {
            let query = match subgraph {
                "deal" => "{ pipelines { id } }",
                "tenant" => "{ currentTenant { id } }",
                "auth" => "{ me { id } }",
                "communication" => {
                    r#"{ _entities(representations: [{ __typename: "Deal", id: "0194f0c2-7d2a-7cc1-9b1e-3f5a1b2c3d4e" }]) { __typename } }"#
                }
                _ => QUERY,
            };
            let direct = stack.subgraph(subgraph, token, query, json!({})).await;
            assert_eq!(direct.error_codes(), ["UNAUTHENTICATED"], "{label} at {subgraph}: {:?}", direct.body);
        }
    }
}
