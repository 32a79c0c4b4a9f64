//! Tenant-defined fields of contacts, companies and deals: the definitions, the validation of
//! values on every write, their typed SQL form for filters and sorts, and their text form for
//! CSV import and export. Values live in each record's `custom_fields` object under the key.
//!
//! Stored forms: text-like types, select, date (`YYYY-MM-DD`) and date-time (RFC 3339, UTC) are
//! strings; number is a JSON number; decimal is a decimal string (exact); currency is
//! `{"amount": "12.50", "currency": "EUR"}`; boolean is a JSON boolean; multi-select is an array
//! of option values. A key is absent rather than null.

use async_graphql::{InputObject, Json};
use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, Utc};
use crm_platform::filter::{check_list, check_text};
use crm_platform::sql::{Sql, like_literal};
use crm_platform::text::EmailAddress;
use crm_platform::{ApiError, ApiResult};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::str::FromStr;

use crate::tenant::custom_field_definition::{self as definition, CustomFieldObject, CustomFieldType};

pub const MAX_TEXT: usize = 1000;
pub const MAX_LONG_TEXT: usize = 20_000;
pub const MAX_OPTIONS: usize = 200;

/// One choice of a select or multi-select field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, async_graphql::SimpleObject, InputObject)]
#[graphql(input_name = "CustomFieldOptionInput")]
pub struct FieldOption {
    pub value: String,
    pub label: String,
}

impl CustomFieldObject {
    /// The table holding records of this kind.
    pub fn table(self) -> &'static str {
        match self {
            Self::Contact => "contacts",
            Self::Company => "companies",
            Self::Deal => "deals",
        }
    }
}

pub fn options(def: &definition::Model) -> Vec<FieldOption> {
    serde_json::from_value(def.options.clone()).unwrap_or_default()
}

/// The field path clients see in errors: `customFields.budget`.
pub fn field_path(key: &str) -> String {
    format!("customFields.{key}")
}

/// The definitions of one kind of record, in display order.
#[derive(Clone, Debug)]
pub struct Definitions {
    pub object: CustomFieldObject,
    pub fields: Vec<definition::Model>,
}

impl Definitions {
    pub async fn load(conn: &impl ConnectionTrait, object: CustomFieldObject) -> Result<Self, DbErr> {
        let fields = definition::Entity::find()
            .filter(definition::Column::Object.eq(object))
            .order_by_asc(definition::Column::Position)
            .order_by_asc(definition::Column::Key)
            .all(conn)
            .await?;
        Ok(Self { object, fields })
    }

    pub fn find(&self, key: &str) -> Option<&definition::Model> {
        self.fields.iter().find(|f| f.key == key)
    }

    /// The definition of `key`, or BAD_USER_INPUT naming the field.
    pub fn require(&self, key: &str) -> ApiResult<&definition::Model> {
        self.find(key).ok_or_else(|| {
            ApiError::bad_input(
                field_path(key),
                format!("{} has no custom field {key:?}", self.object.table()),
            )
        })
    }

    /// Applies a client's patch (key → value; null clears) to `current` and returns the new
    /// values. Every given value is validated against its definition; when `creating`, every
    /// required field must end up with a value.
    pub fn apply_patch(
        &self,
        current: &Value,
        patch: &Value,
        creating: bool,
    ) -> ApiResult<Map<String, Value>> {
        let Some(patch) = patch.as_object() else {
            return Err(ApiError::bad_input("customFields", "customFields must be a JSON object"));
        };
        let mut values = current.as_object().cloned().unwrap_or_default();
        for (key, value) in patch {
            let def = self.require(key)?;
            if value.is_null() {
                values.remove(key);
            } else {
                let normalized =
                    normalize(def, value).map_err(|reason| ApiError::bad_input(field_path(key), reason))?;
                values.insert(key.clone(), normalized);
            }
        }
        for def in self.fields.iter().filter(|def| def.required) {
            let touched = creating || patch.contains_key(&def.key);
            if touched && !values.contains_key(&def.key) {
                return Err(ApiError::bad_input(field_path(&def.key), format!("{} is required", def.label)));
            }
        }
        Ok(values)
    }

    pub fn has_unique(&self) -> bool {
        self.fields.iter().any(|def| def.is_unique)
    }

    /// Holds the unique-values lock of this kind of record for the transaction and refuses
    /// `values` of unique fields another live record holds; nothing when no field is unique.
    pub async fn ensure_unique(
        &self,
        conn: &impl ConnectionTrait,
        values: &Map<String, Value>,
        except: Option<uuid::Uuid>,
    ) -> ApiResult<()> {
        if !self.has_unique() {
            return Ok(());
        }
        lock_unique(conn, self.object).await?;
        self.check_unique(conn, values, except).await
    }

    /// Refuses a value of a unique field that another live record of this kind already holds.
    /// Callers hold [`lock_unique`] so two writers cannot both pass.
    pub async fn check_unique(
        &self,
        conn: &impl ConnectionTrait,
        values: &Map<String, Value>,
        except: Option<uuid::Uuid>,
    ) -> ApiResult<()> {
        for def in self.fields.iter().filter(|def| def.is_unique) {
            let Some(value) = values.get(&def.key) else { continue };
            let mut sql = Sql::new(&format!(
                "SELECT count(*) AS n FROM {} WHERE deleted_at IS NULL AND custom_fields -> ",
                self.object.table()
            ));
            sql.bind(def.key.clone()).push(" = ").bind_as(value.to_string(), "jsonb");
            if let Some(id) = except {
                sql.push(" AND id <> ").bind(id);
            }
            let row = conn.query_one(sql.statement()).await?;
            let taken: i64 = row.map(|r| r.try_get("", "n")).transpose()?.unwrap_or(0);
            if taken > 0 {
                return Err(ApiError::Conflict(format!(
                    "another record already has this {} (customFields.{})",
                    def.label, def.key
                )));
            }
        }
        Ok(())
    }
}

/// The tenant's lock over its definitions: changes take it exclusively, writers of values shared.
pub const DEFINITIONS_LOCK: &str = "custom-field-definitions";

/// Serializes writers of unique custom fields of one kind of record for the transaction.
pub async fn lock_unique(conn: &impl ConnectionTrait, object: CustomFieldObject) -> Result<(), DbErr> {
    crm_platform::tenancy::lock_in_tenant(conn, &format!("custom-unique:{}", object.table()), false).await
}

/// Validates `value` for `def` and returns its stored form, or the reason it does not fit.
pub fn normalize(def: &definition::Model, value: &Value) -> Result<Value, String> {
    use CustomFieldType as T;
    let wrong = |expected: &str| format!("{} must be {expected}", def.label);
    match def.field_type {
        T::Text | T::LongText | T::Url | T::Email | T::Phone | T::Select | T::Date | T::DateTime => {
            let text = value.as_str().ok_or_else(|| wrong("a string"))?;
            parse_text(def, text)
        }
        T::Number => match value.as_f64() {
            Some(n) if n.is_finite() => Ok(value.clone()),
            _ => Err(wrong("a number")),
        },
        T::Decimal => {
            decimal(value).map(|d| Value::String(d.to_string())).ok_or_else(|| wrong("a decimal number"))
        }
        T::Currency => {
            let object = value.as_object().ok_or_else(|| wrong("an object {amount, currency}"))?;
            let amount = object
                .get("amount")
                .and_then(decimal)
                .ok_or_else(|| wrong("an object {amount, currency}"))?;
            let currency = object.get("currency").and_then(Value::as_str).unwrap_or_default();
            currency_amount(amount, currency).ok_or_else(|| wrong("an amount with a 3-letter currency code"))
        }
        T::Boolean => value.as_bool().map(Value::Bool).ok_or_else(|| wrong("true or false")),
        T::MultiSelect => {
            let items = value.as_array().ok_or_else(|| wrong("a list of options"))?;
            let chosen = items
                .iter()
                .map(|item| item.as_str().map(str::to_owned).ok_or_else(|| wrong("a list of options")))
                .collect::<Result<Vec<_>, _>>()?;
            choose_many(def, chosen)
        }
    }
}

/// Parses the text form of a value (a CSV cell, or a value being converted to another type).
pub fn parse_text(def: &definition::Model, raw: &str) -> Result<Value, String> {
    use CustomFieldType as T;
    let text = raw.trim();
    let label = &def.label;
    if text.contains('\0') {
        return Err(format!("{label} contains a NUL character"));
    }
    let bounded = |max: usize| {
        if text.chars().count() > max {
            Err(format!("{label} must be at most {max} characters"))
        } else {
            Ok(Value::String(text.to_owned()))
        }
    };
    match def.field_type {
        T::Text => bounded(MAX_TEXT),
        T::LongText => bounded(MAX_LONG_TEXT),
        T::Number => text
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .and_then(|n| serde_json::Number::from_f64(n).map(Value::Number))
            .ok_or_else(|| format!("{label} must be a number")),
        T::Decimal => Decimal::from_str(text)
            .map(|d| Value::String(d.normalize().to_string()))
            .map_err(|_| format!("{label} must be a decimal number")),
        T::Currency => {
            let mut parts = text.split_whitespace();
            let (first, second) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
            let (amount, currency) = if first.chars().all(|c| c.is_ascii_alphabetic()) {
                (second, first)
            } else {
                (first, second)
            };
            Decimal::from_str(amount)
                .ok()
                .and_then(|amount| currency_amount(amount, currency))
                .filter(|_| parts.next().is_none())
                .ok_or_else(|| format!("{label} must be an amount and a currency code, like 12.50 EUR"))
        }
        // Postgres has no year 0 and stops at 294276; years 1 to 9999 are what people write.
        T::Date => NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .filter(|d| (1..=9999).contains(&d.year()))
            .map(|d| Value::String(d.format("%Y-%m-%d").to_string()))
            .ok_or_else(|| format!("{label} must be a date (YYYY-MM-DD, years 1 to 9999)")),
        T::DateTime => DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|d| d.with_timezone(&Utc))
            .filter(|d| (1..=9999).contains(&d.year()))
            .map(|d| Value::String(d.to_rfc3339_opts(SecondsFormat::Millis, true)))
            .ok_or_else(|| format!("{label} must be a date and time (RFC 3339, years 1 to 9999)")),
        T::Boolean => match text.to_lowercase().as_str() {
            "true" | "yes" | "y" | "1" => Ok(Value::Bool(true)),
            "false" | "no" | "n" | "0" => Ok(Value::Bool(false)),
            _ => Err(format!("{label} must be true or false")),
        },
        T::Select => choose_one(def, text),
        T::MultiSelect => {
            let chosen = text.split([';', '|']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
            choose_many(def, chosen.collect())
        }
        T::Url => {
            let valid = (text.starts_with("https://") || text.starts_with("http://"))
                && text.len() > "https://".len()
                && text.len() <= 2048
                && !text.chars().any(|c| c.is_whitespace() || c.is_control());
            if valid {
                Ok(Value::String(text.to_owned()))
            } else {
                Err(format!("{label} must be an http(s) URL"))
            }
        }
        T::Email => EmailAddress::parse("email", text)
            .map(|email| Value::String(email.into_string()))
            .map_err(|_| format!("{label} must be an email address")),
        T::Phone => {
            let digits = text.chars().filter(char::is_ascii_digit).count();
            let allowed = text.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c));
            if allowed && digits >= 3 && text.len() <= 40 {
                Ok(Value::String(text.to_owned()))
            } else {
                Err(format!("{label} must be a phone number"))
            }
        }
    }
}

/// The text form of a stored value: what export writes and what a type change converts from.
pub fn as_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(as_text).collect::<Vec<_>>().join(";"),
        Value::Object(object) => {
            let amount = object.get("amount").map(as_text).unwrap_or_default();
            let currency = object.get("currency").map(as_text).unwrap_or_default();
            format!("{amount} {currency}").trim().to_owned()
        }
        other => other.to_string(),
    }
}

fn decimal(value: &Value) -> Option<Decimal> {
    match value {
        Value::String(s) => Decimal::from_str(s.trim()).ok(),
        Value::Number(n) => Decimal::from_str(&n.to_string())
            .ok()
            .or_else(|| n.as_f64().and_then(|f| Decimal::try_from(f).ok())),
        _ => None,
    }
    .map(|d| d.normalize())
}

fn currency_amount(amount: Decimal, currency: &str) -> Option<Value> {
    let valid = currency.len() == 3 && currency.chars().all(|c| c.is_ascii_alphabetic());
    valid.then(|| serde_json::json!({ "amount": amount.normalize().to_string(), "currency": currency.to_uppercase() }))
}

fn choose_one(def: &definition::Model, chosen: &str) -> Result<Value, String> {
    let known = options(def);
    known
        .iter()
        .find(|option| option.value == chosen || option.label.eq_ignore_ascii_case(chosen))
        .map(|option| Value::String(option.value.clone()))
        .ok_or_else(|| format!("{chosen:?} is not an option of {}", def.label))
}

fn choose_many(def: &definition::Model, chosen: Vec<String>) -> Result<Value, String> {
    let mut values = Vec::new();
    for item in chosen {
        let Value::String(value) = choose_one(def, &item)? else { continue };
        if !values.contains(&value) {
            values.push(value);
        }
    }
    Ok(Value::Array(values.into_iter().map(Value::String).collect()))
}

/// The typed SQL expression of a field's value on `column` (a record's `custom_fields`) and the
/// type its text form casts back to. The key is a definition's, held to `^[a-z][a-z0-9_]*$` by
/// the database, so it can stand in the statement text.
pub fn sql_expr(def: &definition::Model, column: &str) -> (String, &'static str) {
    use CustomFieldType as T;
    debug_assert!(def.key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'));
    let key = &def.key;
    match def.field_type {
        T::Number | T::Decimal => (format!("({column}->>'{key}')::numeric"), "numeric"),
        T::Currency => (format!("({column}->'{key}'->>'amount')::numeric"), "numeric"),
        T::Date => (format!("({column}->>'{key}')::date"), "date"),
        T::DateTime => (format!("({column}->>'{key}')::timestamptz"), "timestamptz"),
        T::Boolean => (format!("({column}->>'{key}')::boolean"), "boolean"),
        T::Text | T::LongText | T::Url | T::Email | T::Phone | T::Select | T::MultiSelect => {
            (format!("({column}->>'{key}')"), "text")
        }
    }
}

/// A condition on one custom field; operands are checked against the field's type.
#[derive(InputObject, Clone, Debug, Default, Serialize, Deserialize)]
pub struct CustomFieldFilter {
    pub key: String,
    pub eq: Option<Json<Value>>,
    pub neq: Option<Json<Value>>,
    #[graphql(name = "in")]
    pub one_of: Option<Vec<Json<Value>>>,
    pub not_in: Option<Vec<Json<Value>>>,
    pub lt: Option<Json<Value>>,
    pub lte: Option<Json<Value>>,
    pub gt: Option<Json<Value>>,
    pub gte: Option<Json<Value>>,
    pub contains: Option<String>,
    pub starts_with: Option<String>,
    pub is_null: Option<bool>,
    /// Multi-select: at least one of these options.
    pub has_any: Option<Vec<String>>,
    /// Multi-select: all of these options.
    pub has_all: Option<Vec<String>>,
}

impl CustomFieldFilter {
    /// Conditions on the records whose `custom_fields` column is `column`.
    pub fn conditions(&self, defs: &Definitions, column: &str) -> ApiResult<Vec<Sql>> {
        use CustomFieldType as T;
        let def = defs.require(&self.key)?;
        let path = field_path(&def.key);
        let refuse = |operator: &str| {
            ApiError::bad_input(
                path.clone(),
                format!("{operator} does not apply to {:?} fields", def.field_type),
            )
        };
        let (expr, sql_type) = sql_expr(def, column);
        let operand = |value: &Value| -> ApiResult<String> {
            let value = match def.field_type {
                // A currency is compared by its amount.
                T::Currency => decimal(value).map(|d| Value::String(d.to_string())).ok_or_else(|| {
                    ApiError::bad_input(path.clone(), format!("{} is compared by its amount", def.label))
                })?,
                _ => normalize(def, value).map_err(|reason| ApiError::bad_input(path.clone(), reason))?,
            };
            Ok(as_text(&value))
        };
        let mut out = Vec::new();
        let multi = def.field_type == T::MultiSelect;
        let ordered = !matches!(def.field_type, T::Boolean | T::Select | T::MultiSelect);
        for (value, operator) in [(&self.eq, "="), (&self.neq, "IS DISTINCT FROM")] {
            let Some(Json(value)) = value else { continue };
            if multi {
                // Equal as sets: each contains the other.
                let stored =
                    normalize(def, value).map_err(|reason| ApiError::bad_input(path.clone(), reason))?;
                let mut sql = Sql::new(if operator == "=" { "coalesce(" } else { "NOT coalesce(" });
                sql.push(&format!("{column}->'{}' @> ", def.key)).bind_as(stored.to_string(), "jsonb");
                sql.push(&format!(" AND {column}->'{}' <@ ", def.key)).bind_as(stored.to_string(), "jsonb");
                sql.push(", false)");
                out.push(sql);
                continue;
            }
            let mut sql = Sql::new(&expr);
            sql.push(" ").push(operator).push(" ").bind_as(operand(value)?, sql_type);
            out.push(sql);
        }
        for (values, negate) in [(&self.one_of, false), (&self.not_in, true)] {
            let Some(values) = values else { continue };
            if multi {
                return Err(refuse(if negate { "notIn" } else { "in" }));
            }
            check_list(&path, values)?;
            let texts = values.iter().map(|Json(v)| operand(v)).collect::<ApiResult<Vec<_>>>()?;
            let mut sql = Sql::new(if negate { "NOT coalesce(" } else { "coalesce(" });
            sql.push(&expr).push(" = ANY(").bind_as(texts, &format!("{sql_type}[]")).push("), false)");
            out.push(sql);
        }
        for (value, operator, name) in
            [(&self.lt, "<", "lt"), (&self.lte, "<=", "lte"), (&self.gt, ">", "gt"), (&self.gte, ">=", "gte")]
        {
            let Some(Json(value)) = value else { continue };
            if !ordered {
                return Err(refuse(name));
            }
            let mut sql = Sql::new(&expr);
            sql.push(" ").push(operator).push(" ").bind_as(operand(value)?, sql_type);
            out.push(sql);
        }
        for (value, prefix, name) in
            [(&self.contains, "%", "contains"), (&self.starts_with, "", "startsWith")]
        {
            let Some(value) = value else { continue };
            if sql_type != "text" || multi {
                return Err(refuse(name));
            }
            check_text(&path, value)?;
            let mut sql = Sql::new(&expr);
            sql.push(" ILIKE ").bind(format!("{prefix}{}%", like_literal(value)));
            out.push(sql);
        }
        for (values, operator, name) in [(&self.has_any, "?|", "hasAny"), (&self.has_all, "?&", "hasAll")] {
            let Some(values) = values else { continue };
            if !multi {
                return Err(refuse(name));
            }
            check_list(&path, values)?;
            let Value::Array(chosen) =
                choose_many(def, values.clone()).map_err(|r| ApiError::bad_input(path.clone(), r))?
            else {
                continue;
            };
            let chosen: Vec<String> = chosen.iter().map(as_text).collect();
            let mut sql = Sql::new(&format!("{column}->'{}' {operator} ", def.key));
            sql.bind_as(chosen, "text[]");
            out.push(sql);
        }
        if let Some(is_null) = self.is_null {
            let negation = if is_null { "" } else { "NOT " };
            out.push(Sql::new(&format!("{column}->'{}' IS {negation}NULL", def.key)));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field(field_type: CustomFieldType, options: Value) -> definition::Model {
        definition::Model {
            id: uuid::Uuid::nil(),
            object: CustomFieldObject::Contact,
            key: "f".into(),
            label: "Field".into(),
            field_type,
            required: false,
            is_unique: false,
            options,
            position: 0,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn values_are_checked_and_stored_in_one_form() {
        use CustomFieldType as T;
        let colours = json!([{"value": "red", "label": "Red"}, {"value": "blue", "label": "Blue"}]);
        let cases = [
            (T::Number, json!(12.5), Ok(json!(12.5))),
            (T::Number, json!("12"), Err(())),
            (T::Decimal, json!("10.50"), Ok(json!("10.5"))),
            (T::Decimal, json!(3), Ok(json!("3"))),
            (
                T::Currency,
                json!({"amount": 12.5, "currency": "eur"}),
                Ok(json!({"amount": "12.5", "currency": "EUR"})),
            ),
            (T::Currency, json!({"amount": 1}), Err(())),
            (T::Date, json!("2026-02-30"), Err(())),
            (T::Date, json!("2026-02-28"), Ok(json!("2026-02-28"))),
            (T::Date, json!("0000-01-01"), Err(())),
            (T::DateTime, json!("0000-01-01T00:00:00Z"), Err(())),
            (T::DateTime, json!("2026-02-28T10:00:00+02:00"), Ok(json!("2026-02-28T08:00:00.000Z"))),
            (T::Boolean, json!("yes"), Err(())),
            (T::Boolean, json!(true), Ok(json!(true))),
            (T::Url, json!("javascript:alert(1)"), Err(())),
            (T::Email, json!("Ann@Example.COM"), Ok(json!("ann@example.com"))),
            (T::Phone, json!("call me"), Err(())),
            (T::Text, json!("x".repeat(MAX_TEXT + 1)), Err(())),
        ];
        for (field_type, input, expected) in cases {
            let got = normalize(&field(field_type, json!([])), &input).map_err(drop);
            assert_eq!(got, expected, "{field_type:?} {input}");
        }
        let select = field(T::Select, colours.clone());
        assert_eq!(normalize(&select, &json!("Red")), Ok(json!("red")), "labels are accepted");
        assert!(normalize(&select, &json!("green")).is_err());
        let multi = field(T::MultiSelect, colours);
        assert_eq!(normalize(&multi, &json!(["red", "blue", "red"])), Ok(json!(["red", "blue"])));
        assert_eq!(parse_text(&multi, "red; Blue"), Ok(json!(["red", "blue"])));
    }

    #[test]
    fn text_forms_round_trip_through_conversion() {
        use CustomFieldType as T;
        let currency = field(T::Currency, json!([]));
        let stored = parse_text(&currency, "EUR 12.50").expect("currency");
        assert_eq!(as_text(&stored), "12.5 EUR");
        assert_eq!(parse_text(&currency, &as_text(&stored)), Ok(stored));
        assert_eq!(parse_text(&field(T::Number, json!([])), "12"), Ok(json!(12.0)));
        assert!(parse_text(&field(T::Number, json!([])), "twelve").is_err());
    }

    #[test]
    fn patches_refuse_unknown_keys_and_missing_required_fields() {
        let mut required = field(CustomFieldType::Text, json!([]));
        required.required = true;
        let defs = Definitions { object: CustomFieldObject::Contact, fields: vec![required] };
        let unknown = defs.apply_patch(&json!({}), &json!({"nope": 1}), false).expect_err("unknown key");
        assert_eq!(unknown.code(), "BAD_USER_INPUT");
        let missing = defs.apply_patch(&json!({}), &json!({}), true).expect_err("required");
        assert!(matches!(missing, ApiError::BadInput { ref field, .. } if field == "customFields.f"));
        let cleared = defs.apply_patch(&json!({"f": "x"}), &json!({"f": null}), false).expect_err("cleared");
        assert_eq!(cleared.code(), "BAD_USER_INPUT");
        let kept = defs.apply_patch(&json!({"f": "x", "legacy": 1}), &json!({}), false).expect("untouched");
        assert_eq!(Value::Object(kept), json!({"f": "x", "legacy": 1}));
    }
}
