//! Keyset pages over any sort: the cursor holds the last row's sort values and its id, and the
//! next page starts strictly after them, so rows inserted meanwhile never shift or repeat a page.
//! NULLs sort last in either direction; the id (newest first) breaks ties.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sea_orm::QueryResult;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::sql::Sql;

/// One ORDER BY term: an SQL expression written in code and the type its text form casts back to.
#[derive(Clone, Debug)]
pub struct SortKey {
    pub expr: String,
    pub sql_type: &'static str,
    pub descending: bool,
}

/// The position after which a page starts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    #[serde(rename = "v")]
    pub values: Vec<Option<String>>,
    #[serde(rename = "i")]
    pub id: Uuid,
    /// Which order the values belong to, so a cursor of another `orderBy` is refused.
    #[serde(rename = "o")]
    pub order: u32,
}

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    pub fn decode(raw: &str) -> ApiResult<Self> {
        URL_SAFE_NO_PAD
            .decode(raw)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or_else(|| ApiError::bad_input("after", "after is not a valid cursor"))
    }
}

/// Whether `value` (from a cursor) is a well-formed value of `sql_type`.
fn castable(value: &str, sql_type: &str) -> bool {
    match sql_type {
        "text" => !value.contains('\0'),
        "timestamptz" => chrono::DateTime::parse_from_rfc3339(value)
            .is_ok_and(|t| (1..=9999).contains(&chrono::Datelike::year(&t))),
        "date" => chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
            .is_ok_and(|d| (1..=9999).contains(&chrono::Datelike::year(&d))),
        "integer" => value.parse::<i32>().is_ok(),
        "boolean" => value == "true" || value == "false",
        "numeric" | "real" => value.len() <= 100 && value.parse::<f64>().is_ok_and(f64::is_finite),
        _ => false,
    }
}

/// The sort of one list query, with `id_expr` as the final tie-breaker.
#[derive(Clone, Debug)]
pub struct Keyset {
    pub keys: Vec<SortKey>,
    pub id_expr: String,
}

impl Keyset {
    /// Extra select-list entries carrying each row's sort values as text (`sort_0`, …), in their
    /// JSON form: ISO 8601 for times, so a cursor's values can be checked before Postgres sees them.
    pub fn select_list(&self) -> String {
        self.keys
            .iter()
            .enumerate()
            .map(|(i, key)| format!(", to_json({})#>>'{{}}' AS sort_{i}", key.expr))
            .collect()
    }

    pub fn order_by(&self) -> String {
        let mut terms: Vec<String> = self
            .keys
            .iter()
            .map(|key| format!("{} {} NULLS LAST", key.expr, if key.descending { "DESC" } else { "ASC" }))
            .collect();
        terms.push(format!("{} DESC", self.id_expr));
        terms.join(", ")
    }

    /// The condition for rows strictly after `cursor` in this order.
    pub fn after(&self, cursor: &Cursor) -> ApiResult<Sql> {
        if cursor.values.len() != self.keys.len() || cursor.order != self.fingerprint() {
            return Err(ApiError::bad_input("after", "after belongs to a different orderBy"));
        }
        // A cursor is client text: a value that would not cast is refused here, not by Postgres.
        for (key, value) in self.keys.iter().zip(&cursor.values) {
            if let Some(value) = value
                && !castable(value, key.sql_type)
            {
                return Err(ApiError::bad_input("after", "after is not a valid cursor"));
            }
        }
        Ok(self.after_from(0, cursor))
    }

    fn after_from(&self, index: usize, cursor: &Cursor) -> Sql {
        let Some(key) = self.keys.get(index) else {
            let mut sql = Sql::new(&self.id_expr);
            sql.push(" < ").bind(cursor.id);
            return sql;
        };
        let rest = self.after_from(index + 1, cursor);
        let mut sql = Sql::new("(");
        match &cursor.values[index] {
            // NULLs come last: after a NULL only more NULLs follow.
            None => {
                sql.push(&key.expr).push(" IS NULL AND ").append(rest);
            }
            Some(value) => {
                let operator = if key.descending { " < " } else { " > " };
                sql.push(&key.expr).push(" IS NULL OR ").push(&key.expr).push(operator);
                sql.bind_as(value.clone(), key.sql_type);
                sql.push(" OR (").push(&key.expr).push(" = ").bind_as(value.clone(), key.sql_type);
                sql.push(" AND ").append(rest).push(")");
            }
        }
        sql.push(")");
        sql
    }

    /// A short digest of the order (FNV-1a of its ORDER BY), carried by cursors.
    pub fn fingerprint(&self) -> u32 {
        self.order_by()
            .bytes()
            .fold(0x811c_9dc5_u32, |hash, byte| (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193))
    }

    /// The cursor of a row selected with [`Keyset::select_list`].
    pub fn cursor_of(&self, row: &QueryResult, id: Uuid) -> ApiResult<Cursor> {
        let values = (0..self.keys.len())
            .map(|i| row.try_get::<Option<String>>("", &format!("sort_{i}")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Cursor { values, id, order: self.fingerprint() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_bad_input() {
        let cursor = Cursor { values: vec![Some("Ann".into()), None], id: Uuid::now_v7(), order: 7 };
        assert_eq!(Cursor::decode(&cursor.encode()).expect("valid"), cursor);
        assert_eq!(Cursor::decode("%%%").expect_err("garbage").code(), "BAD_USER_INPUT");
    }

    #[test]
    fn after_respects_direction_and_nulls() {
        let keyset = Keyset {
            keys: vec![
                SortKey { expr: "c.last_name".into(), sql_type: "text", descending: false },
                SortKey { expr: "c.created_at".into(), sql_type: "timestamptz", descending: true },
            ],
            id_expr: "c.id".into(),
        };
        let cursor =
            Cursor { values: vec![Some("Smith".into()), None], id: Uuid::nil(), order: keyset.fingerprint() };
        let sql = keyset.after(&cursor).expect("matching cursor");
        assert_eq!(
            sql.text(),
            "(c.last_name IS NULL OR c.last_name > $1::text OR (c.last_name = $2::text AND \
             (c.created_at IS NULL AND c.id < $3)))"
        );
        assert_eq!(keyset.order_by(), "c.last_name ASC NULLS LAST, c.created_at DESC NULLS LAST, c.id DESC");
        let edited = Cursor {
            values: vec![Some("Smith".into()), Some("yesterday".into())],
            id: Uuid::nil(),
            order: keyset.fingerprint(),
        };
        assert_eq!(keyset.after(&edited).expect_err("not a time").code(), "BAD_USER_INPUT");
        let short = Cursor { values: vec![None], id: Uuid::nil(), order: keyset.fingerprint() };
        assert_eq!(keyset.after(&short).expect_err("mismatch").code(), "BAD_USER_INPUT");
        let mut reversed = keyset.clone();
        reversed.keys[0].descending = true;
        let foreign = Cursor {
            values: vec![Some("Smith".into()), None],
            id: Uuid::nil(),
            order: reversed.fingerprint(),
        };
        assert_eq!(keyset.after(&foreign).expect_err("another order").code(), "BAD_USER_INPUT");
    }
}
