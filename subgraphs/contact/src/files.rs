//! The plain-HTTP paths of the contact subgraph: `PUT /files/imports/{token}` takes an import's
//! file, `GET /files/exports/{token}` streams an export. GraphQL hands out the links; the token
//! alone says which organization and which record, and works once.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use crm_platform::Services;
use serde_json::json;
use tower_http::timeout::TimeoutLayer;

use crate::exports;
use crate::imports::MAX_FILE_BYTES;
use crate::imports::upload::{UploadError, fail, store_file};
use crate::tokens::{self, Purpose};

/// A 100 MB upload over a slow line still fits; nothing hangs for ever.
const TRANSFER_TIMEOUT: Duration = Duration::from_secs(15 * 60);

pub fn routes(services: &Services) -> Router {
    Router::new()
        .route("/files/imports/{token}", put(upload).post(upload))
        .route("/files/exports/{token}", get(download))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, TRANSFER_TIMEOUT))
        .with_state(services.clone())
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, axum::Json(json!({ "errors": [{ "message": message, "extensions": { "code": code } }] })))
        .into_response()
}

fn internal(err: impl std::fmt::Debug) -> Response {
    let error_id = uuid::Uuid::new_v4();
    tracing::error!(%error_id, error = ?err, "file transfer failed");
    let body = json!({ "errors": [{ "message": "Internal server error", "extensions": { "code": "INTERNAL", "errorId": error_id } }] });
    (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response()
}

fn unknown_link() -> Response {
    error(StatusCode::NOT_FOUND, "NOT_FOUND", "this link is unknown, expired or already used")
}

async fn upload(
    State(services): State<Services>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (tenant, import) = match tokens::redeem(&services.db, Purpose::ImportUpload, &token).await {
        Ok(Some(found)) => found,
        Ok(None) => return unknown_link(),
        Err(err) => return internal(err),
    };
    // A declared length over the cap is refused before a byte is read.
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_FILE_BYTES) {
        if let Err(err) = fail(&services.db, tenant, import, "the file is larger than 100 MB").await {
            return internal(err);
        }
        return error(StatusCode::PAYLOAD_TOO_LARGE, "BAD_USER_INPUT", "the file is larger than 100 MB");
    }
    match store_file(&services.db, tenant, import, body.into_data_stream()).await {
        Ok(bytes) => axum::Json(json!({ "id": import, "status": "QUEUED", "bytes": bytes })).into_response(),
        Err(UploadError::NotWaiting) => {
            error(StatusCode::CONFLICT, "CONFLICT", "this import is not waiting for a file")
        }
        Err(UploadError::TooLarge) => {
            error(StatusCode::PAYLOAD_TOO_LARGE, "BAD_USER_INPUT", "the file is larger than 100 MB")
        }
        Err(UploadError::Interrupted(_)) => {
            error(StatusCode::BAD_REQUEST, "BAD_USER_INPUT", "the upload was interrupted")
        }
        Err(UploadError::Database(err)) => internal(err),
    }
}

async fn download(State(services): State<Services>, Path(token): Path<String>) -> Response {
    let (tenant, export) = match tokens::redeem(&services.db, Purpose::ExportDownload, &token).await {
        Ok(Some(found)) => found,
        Ok(None) => return unknown_link(),
        Err(err) => return internal(err),
    };
    let (sender, receiver) = tokio::sync::mpsc::channel(4);
    tokio::spawn(exports::stream(services.db.clone(), tenant, export, sender));
    let body = futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    });
    let file_name = format!("contacts-{}.csv", chrono::Utc::now().format("%Y%m%d-%H%M%S"));
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file_name}\"")),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        Body::from_stream(body),
    )
        .into_response()
}
