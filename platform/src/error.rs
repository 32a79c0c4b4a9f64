//! Client errors carry a stable `extensions.code` and a safe message; internal errors are logged
//! once here, with an error id, and reach the client as a generic message carrying that id.

use std::borrow::Cow;

use async_graphql::ErrorExtensions;
use sea_orm::DbErr;

pub type ApiResult<T> = Result<T, ApiError>;

/// Deliberately not `Display`: async-graphql turns any `Display` error into a code-less error,
/// so every conversion must go through [`ErrorExtensions`] and keep the code.
#[derive(Debug)]
pub enum ApiError {
    Unauthenticated,
    Forbidden(String),
    /// The message names only the kind of thing, so a foreign id and a missing id look the same.
    NotFound(&'static str),
    Conflict(String),
    BadInput {
        /// The input field at fault, as the client wrote it (`email`, `customFields.budget`).
        field: Cow<'static, str>,
        message: String,
    },
    PaymentRequired(String),
    /// A rate limit is exhausted; `limit` says which, in words for the client ("sign-in attempts
    /// for this account"), and the client may retry after the given delay.
    RateLimited {
        limit: &'static str,
        retry_after_secs: u64,
    },
    /// A dependency is down; the message says which, in words safe for clients.
    Unavailable(&'static str),
    /// A statement ran past the statement timeout.
    TimedOut,
    Internal(anyhow::Error),
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::RateLimited { .. } => "RATE_LIMITED",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::NotFound(_) => "NOT_FOUND",
            Self::Conflict(_) => "CONFLICT",
            Self::BadInput { .. } => "BAD_USER_INPUT",
            Self::PaymentRequired(_) => "PAYMENT_REQUIRED",
            // Retrying later can work: a client may say so instead of "something broke".
            Self::Unavailable(_) | Self::TimedOut => "SERVICE_UNAVAILABLE",
            Self::Internal(_) => "INTERNAL",
        }
    }

    /// The client-safe message.
    pub fn message(&self) -> String {
        match self {
            Self::Unauthenticated => "authentication required".to_owned(),
            Self::NotFound(what) => format!("{what} not found"),
            Self::Forbidden(m) | Self::Conflict(m) | Self::PaymentRequired(m) => m.clone(),
            Self::BadInput { message, .. } => message.clone(),
            Self::Unavailable(what) => format!("{what} is unavailable; try again shortly"),
            Self::TimedOut => "the request took too long; try again, or ask for less".to_owned(),
            Self::RateLimited { limit, retry_after_secs } => {
                format!("too many {limit}; try again in {retry_after_secs} s")
            }
            Self::Internal(_) => "Internal server error".to_owned(),
        }
    }

    pub fn bad_input(field: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self::BadInput { field: field.into(), message: message.into() }
    }

    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        Self::Internal(err.into())
    }
}

impl From<crate::kv::RedisUnavailable> for ApiError {
    fn from(_: crate::kv::RedisUnavailable) -> Self {
        Self::Unavailable("the session store")
    }
}

impl From<serde_json::Error> for ApiError {
    fn from(err: serde_json::Error) -> Self {
        Self::Internal(err.into())
    }
}

impl From<DbErr> for ApiError {
    fn from(err: DbErr) -> Self {
        if crate::db::is_unavailable(&err) {
            tracing::warn!(error = %err, "database unavailable");
            Self::Unavailable("the database")
        } else if crate::db::is_statement_timeout(&err) {
            tracing::warn!(error = %err, "statement timed out");
            Self::TimedOut
        } else {
            Self::Internal(err.into())
        }
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(err: ApiError) -> Self {
        err.extend()
    }
}

impl ErrorExtensions for ApiError {
    fn extend(&self) -> async_graphql::Error {
        let code = self.code();
        match self {
            Self::Internal(source) => {
                let error_id = uuid::Uuid::new_v4();
                tracing::error!(%error_id, error = ?source, "internal error");
                async_graphql::Error::new("Internal server error").extend_with(|_, ext| {
                    ext.set("code", code);
                    ext.set("errorId", error_id.to_string());
                })
            }
            Self::RateLimited { retry_after_secs, .. } => {
                let retry_after = *retry_after_secs;
                async_graphql::Error::new(self.message()).extend_with(move |_, ext| {
                    ext.set("code", code);
                    ext.set("retryAfter", retry_after);
                })
            }
            Self::BadInput { field, message } => {
                async_graphql::Error::new(message.clone()).extend_with(|_, ext| {
                    ext.set("code", code);
                    ext.set("field", field.as_ref());
                })
            }
            other => async_graphql::Error::new(other.message()).extend_with(|_, ext| ext.set("code", code)),
        }
    }
}

/// Postgres SQLSTATE and constraint of a failed statement, for mapping constraint violations to
/// client errors at the call site.
pub fn violated_constraint(err: &DbErr) -> Option<(String, Option<String>)> {
    let sqlx_err = match err {
        DbErr::Query(sea_orm::RuntimeErr::SqlxError(e)) | DbErr::Exec(sea_orm::RuntimeErr::SqlxError(e)) => e,
        _ => return None,
    };
    let db_err = sqlx_err.as_database_error()?;
    let code = db_err.code()?.into_owned();
    Some((code, db_err.constraint().map(str::to_owned)))
}

/// True when `err` is a unique violation of `constraint`.
pub fn is_unique_violation(err: &DbErr, constraint: &str) -> bool {
    matches!(violated_constraint(err), Some((code, Some(c))) if code == "23505" && c == constraint)
}

/// True when `err` is a foreign-key violation of `constraint`.
pub fn is_foreign_key_violation(err: &DbErr, constraint: &str) -> bool {
    matches!(violated_constraint(err), Some((code, Some(c))) if code == "23503" && c == constraint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_reach_the_client_masked_with_an_error_id() {
        let err = ApiError::internal(anyhow::anyhow!("relation \"tenant_x.contacts\" does not exist"));
        let gql = err.extend();
        assert_eq!(gql.message, "Internal server error");
        let rendered = format!("{:?}", gql.extensions);
        assert!(rendered.contains("INTERNAL") && rendered.contains("errorId"), "{rendered}");
        assert!(!rendered.contains("relation") && !rendered.contains("tenant_x"), "{rendered}");
    }

    #[test]
    fn client_errors_keep_their_code_and_message() {
        let gql: async_graphql::Error =
            ApiError::bad_input("email", "email is not a valid email address").into();
        assert_eq!(gql.message, "email is not a valid email address");
        let rendered = format!("{:?}", gql.extensions);
        assert!(rendered.contains("BAD_USER_INPUT") && rendered.contains("email"), "{rendered}");
        assert_eq!(ApiError::NotFound("contact").message(), "contact not found");
    }

    #[test]
    fn rate_limits_have_their_own_code_name_the_limit_and_say_when_to_retry() {
        let err = ApiError::RateLimited { limit: "registrations from this address", retry_after_secs: 42 };
        let gql = err.extend();
        assert_eq!(gql.message, "too many registrations from this address; try again in 42 s");
        let rendered = format!("{:?}", gql.extensions);
        assert!(rendered.contains("RATE_LIMITED") && rendered.contains("retryAfter"), "{rendered}");
    }
}
