//! The plain-HTTP tracking paths: `GET /track/open/{token}.gif` (the pixel) and
//! `GET /track/click/{token}` (a link's redirect). A token that is not signed by its email's key
//! gets 404 and no redirect; an organization that turned tracking off still gets its links
//! redirected, but nothing is recorded.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use crm_entities::events::communication::{EmailClicked, EmailOpened};
use crm_entities::ids::{ContactId, EmailId};
use crm_platform::events::{self, Envelope};
use crm_platform::sql::Sql;
use crm_platform::{ApiResult, Db, Services, TenantId, TenantTx};
use sea_orm::{ConnectionTrait, FromQueryResult};
use uuid::Uuid;

use crate::mail::settings;
use crate::mail::tracking::TokenClaim;

/// A transparent 1×1 GIF.
const PIXEL_GIF: [u8; 43] = [
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff,
    0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
    0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];

pub fn routes(services: &Services) -> Router {
    Router::new()
        .route("/track/open/{token}", get(open))
        .route("/track/click/{token}", get(click))
        .with_state(services.db.clone())
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "this link is unknown").into_response()
}

fn user_agent(headers: &HeaderMap) -> Option<String> {
    let agent = headers.get(header::USER_AGENT)?.to_str().ok()?;
    Some(agent.chars().take(300).collect())
}

async fn open(State(db): State<Db>, Path(token): Path<String>, headers: HeaderMap) -> Response {
    let Some(claim) = TokenClaim::parse(&token).filter(|c| c.link.is_none()) else { return not_found() };
    match record(&db, &claim, user_agent(&headers)).await {
        Ok(Some(_)) => {
            let headers = [(header::CONTENT_TYPE, "image/gif"), (header::CACHE_CONTROL, "no-store, private")];
            (headers, PIXEL_GIF.as_slice()).into_response()
        }
        Ok(None) => not_found(),
        Err(err) => failed(err),
    }
}

async fn click(State(db): State<Db>, Path(token): Path<String>, headers: HeaderMap) -> Response {
    let Some(claim) = TokenClaim::parse(&token).filter(|c| c.link.is_some()) else { return not_found() };
    match record(&db, &claim, user_agent(&headers)).await {
        Ok(Some(Some(url))) => Redirect::to(&url).into_response(),
        Ok(_) => not_found(),
        Err(err) => failed(err),
    }
}

fn failed(err: impl std::fmt::Debug) -> Response {
    let error_id = Uuid::new_v4();
    tracing::error!(%error_id, error = ?err, "tracking request failed");
    (StatusCode::INTERNAL_SERVER_ERROR, format!("internal error {error_id}")).into_response()
}

#[derive(FromQueryResult)]
struct Tracked {
    tracking_key: Option<Vec<u8>>,
    links: Vec<String>,
    contact_id: Option<Uuid>,
    opened_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Checks the token against its email and records the open or click. `None`: no such signed
/// token; `Some(url)`: valid, with the link's address for a click.
async fn record(db: &Db, claim: &TokenClaim, agent: Option<String>) -> ApiResult<Option<Option<String>>> {
    let tenant = TenantId(claim.tenant);
    let mut live = Sql::new("SELECT 1 FROM crm.tenants WHERE deleted_at IS NULL AND id = ");
    live.bind(claim.tenant);
    if db.conn().query_one(live.statement()).await?.is_none() {
        return Ok(None);
    }
    let tx = TenantTx::begin(db, tenant).await?;
    let mut sql = Sql::new("SELECT tracking_key, links, contact_id, opened_at FROM emails WHERE id = ");
    sql.bind(claim.email).push(" FOR UPDATE");
    let Some(email) = Tracked::find_by_statement(sql.statement()).one(&*tx).await? else { return Ok(None) };
    if !email.tracking_key.as_deref().is_some_and(|key| claim.is_signed_by(key)) {
        return Ok(None);
    }
    let url = match claim.link {
        Some(i) => match email.links.get(i) {
            Some(url) => Some(url.clone()),
            None => return Ok(None),
        },
        None => None,
    };
    if !settings::load(&tx).await?.tracking {
        return Ok(Some(url));
    }
    let contact_id = email.contact_id.map(ContactId);
    let email_id = EmailId(claim.email);
    let kind = if url.is_some() { "click" } else { "open" };
    let mut insert = Sql::new("INSERT INTO email_tracking (id, email_id, kind, url, user_agent) VALUES (");
    insert.bind(Uuid::now_v7()).push(", ").bind(claim.email).push(", ").bind(kind).push(", ");
    insert.bind(url.clone()).push(", ").bind(agent).push(")");
    tx.execute(insert.statement()).await?;
    let mut update = Sql::new(match url {
        // A click shows the email was opened, even when its images were blocked.
        Some(_) => {
            "UPDATE emails SET click_count = click_count + 1, opened_at = coalesce(opened_at, now()) WHERE id = "
        }
        None => {
            "UPDATE emails SET open_count = open_count + 1, opened_at = coalesce(opened_at, now()) WHERE id = "
        }
    });
    update.bind(claim.email);
    tx.execute(update.statement()).await?;
    let event = match &url {
        Some(url) => Envelope::new(tenant, None, &EmailClicked { email_id, contact_id, url: url.clone() })?,
        None => Envelope::new(
            tenant,
            None,
            &EmailOpened { email_id, contact_id, first: email.opened_at.is_none() },
        )?,
    };
    events::enqueue(&*tx, &event).await?;
    tx.commit().await?;
    Ok(Some(url))
}
