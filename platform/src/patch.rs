//! Partial-update inputs: an absent field is kept, `null` clears it, a value sets it.

use async_graphql::{Json, MaybeUndefined};
use serde_json::Value;

use crate::{ApiError, ApiResult};

/// `MaybeUndefined` → keep (None), clear (Some(None)) or set (Some(Some(parsed))).
pub fn change<T, U>(
    value: MaybeUndefined<T>,
    parse: impl FnOnce(T) -> ApiResult<Option<U>>,
) -> ApiResult<Option<Option<U>>> {
    match value {
        MaybeUndefined::Undefined => Ok(None),
        MaybeUndefined::Null => Ok(Some(None)),
        MaybeUndefined::Value(value) => Ok(Some(parse(value)?)),
    }
}

/// Like [`change`] for fields that cannot be cleared: null is BAD_USER_INPUT.
pub fn required_change<T, U>(
    field: &'static str,
    value: MaybeUndefined<T>,
    parse: impl FnOnce(T) -> ApiResult<U>,
) -> ApiResult<Option<U>> {
    match value {
        MaybeUndefined::Undefined => Ok(None),
        MaybeUndefined::Null => Err(ApiError::bad_input(field, format!("{field} cannot be cleared"))),
        MaybeUndefined::Value(value) => Ok(Some(parse(value)?)),
    }
}

/// Custom field values as given: a JSON object of values by key.
pub fn custom_fields(json: Json<Value>) -> ApiResult<Value> {
    if !json.0.is_object() {
        return Err(ApiError::bad_input("customFields", "customFields must be a JSON object"));
    }
    Ok(json.0)
}
