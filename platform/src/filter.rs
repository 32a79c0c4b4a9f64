//! Typed filter operators shared by every list (`contacts`, `companies`, later `deals`): each
//! turns into SQL conditions on an expression the caller names in code, with every operand bound.

use async_graphql::{ID, InputObject};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::sql::{Sql, like_literal};

/// Longest list an `in`/`notIn`/`hasAny`/`hasAll` operand may hold.
pub const MAX_LIST: usize = 500;
/// Longest text operand.
pub const MAX_TEXT: usize = 1000;

/// Operators on a text field. `contains` and `startsWith` ignore case; the others compare exactly.
#[derive(InputObject, Default, Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct StringFilter {
    pub eq: Option<String>,
    pub neq: Option<String>,
    #[graphql(name = "in")]
    pub one_of: Option<Vec<String>>,
    pub not_in: Option<Vec<String>>,
    pub lt: Option<String>,
    pub lte: Option<String>,
    pub gt: Option<String>,
    pub gte: Option<String>,
    pub contains: Option<String>,
    pub starts_with: Option<String>,
    pub is_null: Option<bool>,
}

/// Operators on a date-time field.
#[derive(InputObject, Default, Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct DateTimeFilter {
    pub eq: Option<DateTime<Utc>>,
    pub neq: Option<DateTime<Utc>>,
    pub lt: Option<DateTime<Utc>>,
    pub lte: Option<DateTime<Utc>>,
    pub gt: Option<DateTime<Utc>>,
    pub gte: Option<DateTime<Utc>>,
    pub is_null: Option<bool>,
}

/// Operators on an integer field.
#[derive(InputObject, Default, Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct IntFilter {
    pub eq: Option<i32>,
    pub neq: Option<i32>,
    #[graphql(name = "in")]
    pub one_of: Option<Vec<i32>>,
    pub not_in: Option<Vec<i32>>,
    pub lt: Option<i32>,
    pub lte: Option<i32>,
    pub gt: Option<i32>,
    pub gte: Option<i32>,
    pub is_null: Option<bool>,
}

/// Operators on a reference to another record or a user.
#[derive(InputObject, Default, Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct IdFilter {
    pub eq: Option<ID>,
    pub neq: Option<ID>,
    #[graphql(name = "in")]
    pub one_of: Option<Vec<ID>>,
    pub not_in: Option<Vec<ID>>,
    pub is_null: Option<bool>,
}

/// Operators on a list of labels.
#[derive(InputObject, Default, Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct TagsFilter {
    /// At least one of these.
    pub has_any: Option<Vec<String>>,
    /// Every one of these.
    pub has_all: Option<Vec<String>>,
    /// True: no labels at all; false: at least one.
    pub is_empty: Option<bool>,
}

fn compare(expr: &str, operator: &str, value: impl Into<sea_orm::Value>, sql_type: &str) -> Sql {
    let mut sql = Sql::new(expr);
    sql.push(" ").push(operator).push(" ").bind_as(value, sql_type);
    sql
}

fn null_check(expr: &str, is_null: Option<bool>) -> Option<Sql> {
    is_null.map(|is_null| Sql::new(&format!("{expr} IS {}NULL", if is_null { "" } else { "NOT " })))
}

/// Refuses oversized operands before they reach the database.
pub fn check_list<T>(field: &str, values: &[T]) -> ApiResult<()> {
    if values.len() > MAX_LIST {
        return Err(ApiError::bad_input(
            field.to_owned(),
            format!("{field} allows at most {MAX_LIST} values"),
        ));
    }
    Ok(())
}

pub fn check_text(field: &str, value: &str) -> ApiResult<()> {
    if value.chars().count() > MAX_TEXT || value.contains('\0') {
        return Err(ApiError::bad_input(
            field.to_owned(),
            format!("{field} must be at most {MAX_TEXT} characters without NUL"),
        ));
    }
    Ok(())
}

impl StringFilter {
    /// Conditions on `expr` (a text expression written in code); `field` names it in errors.
    pub fn conditions(&self, expr: &str, field: &str) -> ApiResult<Vec<Sql>> {
        let mut out = Vec::new();
        let scalar =
            [(&self.eq, "="), (&self.lt, "<"), (&self.lte, "<="), (&self.gt, ">"), (&self.gte, ">=")];
        for (value, operator) in scalar {
            if let Some(value) = value {
                check_text(field, value)?;
                out.push(compare(expr, operator, value.clone(), "text"));
            }
        }
        if let Some(value) = &self.neq {
            check_text(field, value)?;
            out.push(compare(expr, "IS DISTINCT FROM", value.clone(), "text"));
        }
        for (values, negate) in [(&self.one_of, false), (&self.not_in, true)] {
            if let Some(values) = values {
                check_list(field, values)?;
                values.iter().try_for_each(|v| check_text(field, v))?;
                let mut sql = Sql::new(if negate { "NOT coalesce(" } else { "coalesce(" });
                sql.push(expr).push(" = ANY(").bind_as(values.clone(), "text[]").push("), false)");
                out.push(sql);
            }
        }
        for (value, prefix) in [(&self.contains, "%"), (&self.starts_with, "")] {
            if let Some(value) = value {
                check_text(field, value)?;
                let pattern = format!("{prefix}{}%", like_literal(value));
                out.push(compare(expr, "ILIKE", pattern, "text"));
            }
        }
        out.extend(null_check(expr, self.is_null));
        Ok(out)
    }
}

impl DateTimeFilter {
    pub fn conditions(&self, expr: &str) -> Vec<Sql> {
        let mut out = Vec::new();
        let operators = [
            (self.eq, "="),
            (self.neq, "IS DISTINCT FROM"),
            (self.lt, "<"),
            (self.lte, "<="),
            (self.gt, ">"),
            (self.gte, ">="),
        ];
        for (value, operator) in operators {
            if let Some(value) = value {
                out.push(compare(expr, operator, value, "timestamptz"));
            }
        }
        out.extend(null_check(expr, self.is_null));
        out
    }
}

impl IntFilter {
    pub fn conditions(&self, expr: &str, field: &str) -> ApiResult<Vec<Sql>> {
        let mut out = Vec::new();
        let operators = [
            (self.eq, "="),
            (self.neq, "IS DISTINCT FROM"),
            (self.lt, "<"),
            (self.lte, "<="),
            (self.gt, ">"),
            (self.gte, ">="),
        ];
        for (value, operator) in operators {
            if let Some(value) = value {
                out.push(compare(expr, operator, value, "integer"));
            }
        }
        for (values, negate) in [(&self.one_of, false), (&self.not_in, true)] {
            if let Some(values) = values {
                check_list(field, values)?;
                let mut sql = Sql::new(if negate { "NOT coalesce(" } else { "coalesce(" });
                sql.push(expr).push(" = ANY(").bind_as(values.clone(), "integer[]").push("), false)");
                out.push(sql);
            }
        }
        out.extend(null_check(expr, self.is_null));
        Ok(out)
    }
}

impl IdFilter {
    pub fn conditions(&self, expr: &str, field: &str) -> ApiResult<Vec<Sql>> {
        let parse = |id: &ID| {
            Uuid::parse_str(id.as_str())
                .map_err(|_| ApiError::bad_input(field.to_owned(), format!("{field} holds an invalid id")))
        };
        let mut out = Vec::new();
        if let Some(id) = &self.eq {
            out.push(compare(expr, "=", parse(id)?, "uuid"));
        }
        if let Some(id) = &self.neq {
            out.push(compare(expr, "IS DISTINCT FROM", parse(id)?, "uuid"));
        }
        for (values, negate) in [(&self.one_of, false), (&self.not_in, true)] {
            if let Some(values) = values {
                check_list(field, values)?;
                let ids = values.iter().map(parse).collect::<ApiResult<Vec<Uuid>>>()?;
                let mut sql = Sql::new(if negate { "NOT coalesce(" } else { "coalesce(" });
                sql.push(expr).push(" = ANY(").bind_as(ids, "uuid[]").push("), false)");
                out.push(sql);
            }
        }
        out.extend(null_check(expr, self.is_null));
        Ok(out)
    }
}

impl TagsFilter {
    /// Conditions on a `text[]` expression; labels compare without regard to case.
    pub fn conditions(&self, expr: &str, field: &str) -> ApiResult<Vec<Sql>> {
        let mut out = Vec::new();
        for (values, operator) in [(&self.has_any, "&&"), (&self.has_all, "@>")] {
            if let Some(values) = values {
                check_list(field, values)?;
                values.iter().try_for_each(|v| check_text(field, v))?;
                let lowered: Vec<String> = values.iter().map(|v| v.trim().to_lowercase()).collect();
                out.push(compare(expr, operator, lowered, "text[]"));
            }
        }
        if let Some(is_empty) = self.is_empty {
            out.push(Sql::new(&format!("cardinality({expr}) {} 0", if is_empty { "=" } else { ">" })));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operand_is_bound() {
        let filter = StringFilter {
            eq: Some("x'; DROP TABLE contacts; --".into()),
            contains: Some("50%".into()),
            one_of: Some(vec!["a".into(), "b".into()]),
            is_null: Some(false),
            ..Default::default()
        };
        let parts = filter.conditions("c.first_name", "firstName").expect("valid");
        let joined = crate::sql::join(parts, "AND");
        assert!(!joined.text().contains("DROP"), "{}", joined.text());
        assert!(joined.text().contains("c.first_name IS NOT NULL"), "{}", joined.text());
        assert_eq!(joined.statement().values.expect("values").0.len(), 3);
    }

    #[test]
    fn oversized_operands_are_bad_input() {
        let filter = StringFilter { one_of: Some(vec!["a".into(); MAX_LIST + 1]), ..Default::default() };
        let err = filter.conditions("c.email", "email").expect_err("too many");
        assert_eq!(err.code(), "BAD_USER_INPUT");
        let ids = IdFilter { eq: Some(ID::from("nope")), ..Default::default() };
        assert_eq!(ids.conditions("c.owner_id", "ownerId").expect_err("bad id").code(), "BAD_USER_INPUT");
    }
}
