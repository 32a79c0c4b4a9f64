//! Managing custom field definitions (admins). Renaming a label, adding options and deleting a
//! field are always safe. Anything that would leave stored values invalid — a type change, a
//! removed option, a new required or unique rule, adopting a key records already use — either
//! converts every value in the same transaction or is refused with the count that does not fit.

use chrono::Utc;
use crm_entities::custom_fields::{FieldOption, as_text, parse_text, sql_expr};
use crm_entities::tenant::custom_field_definition::{self as definition, CustomFieldObject, CustomFieldType};
use crm_platform::sql::Sql;
use crm_platform::tenancy::lock_in_tenant;
use crm_platform::{ApiError, ApiResult, TenantTx};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter};
use serde_json::Value;
use uuid::Uuid;

pub const MAX_FIELDS_PER_OBJECT: usize = 100;
const MAX_OPTIONS: usize = 200;

pub struct NewField {
    pub object: CustomFieldObject,
    pub key: String,
    pub label: String,
    pub field_type: CustomFieldType,
    pub required: bool,
    pub unique: bool,
    pub options: Vec<FieldOption>,
    pub position: Option<i32>,
}

#[derive(Default)]
pub struct FieldChange {
    pub label: Option<String>,
    pub field_type: Option<CustomFieldType>,
    pub required: Option<bool>,
    pub unique: Option<bool>,
    pub options: Option<Vec<FieldOption>>,
    pub position: Option<i32>,
}

fn check_key(key: &str) -> ApiResult<()> {
    let mut chars = key.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && key.len() <= 63;
    if valid {
        Ok(())
    } else {
        Err(ApiError::bad_input(
            "key",
            "key must be lowercase letters, digits and _, starting with a letter, at most 63",
        ))
    }
}

fn check_options(field_type: CustomFieldType, options: &[FieldOption]) -> ApiResult<()> {
    let choice = matches!(field_type, CustomFieldType::Select | CustomFieldType::MultiSelect);
    if choice && options.is_empty() {
        return Err(ApiError::bad_input("options", "select fields need at least one option"));
    }
    if !choice && !options.is_empty() {
        return Err(ApiError::bad_input("options", "only select and multi-select fields have options"));
    }
    if options.len() > MAX_OPTIONS {
        return Err(ApiError::bad_input("options", format!("a field has at most {MAX_OPTIONS} options")));
    }
    let mut seen = std::collections::HashSet::new();
    for option in options {
        crm_platform::text::required("options.value", &option.value, 100)?;
        crm_platform::text::required("options.label", &option.label, 100)?;
        if option.value.contains([';', '|']) {
            return Err(ApiError::bad_input(
                "options.value",
                "option values cannot contain ; or | (list separators)",
            ));
        }
        if !seen.insert(option.value.as_str()) {
            return Err(ApiError::bad_input(
                "options.value",
                format!("option {:?} appears twice", option.value),
            ));
        }
    }
    Ok(())
}

/// Every stored value of `key` on records of `object` (trashed ones too).
async fn stored_values(tx: &TenantTx, object: CustomFieldObject, key: &str) -> ApiResult<Vec<(Uuid, Value)>> {
    let mut sql = Sql::new("SELECT id, custom_fields -> ");
    sql.bind(key.to_owned()).push(&format!(" AS value FROM {} WHERE custom_fields ? ", object.table()));
    sql.bind(key.to_owned());
    let rows = tx.query_all(sql.statement()).await?;
    rows.iter().map(|row| Ok((row.try_get("", "id")?, row.try_get("", "value")?))).collect()
}

/// Converts every stored value to `def`'s type and options, writing them back; refuses with the
/// number of values that would not convert, writing nothing. Returns the records rewritten.
async fn convert_values(tx: &TenantTx, def: &definition::Model, field: &'static str) -> ApiResult<Vec<Uuid>> {
    let values = stored_values(tx, def.object, &def.key).await?;
    let mut converted = Vec::with_capacity(values.len());
    let mut failures = 0;
    for (id, value) in values {
        match parse_text(def, &as_text(&value)) {
            Ok(new) => converted.push((id, new)),
            Err(_) => failures += 1,
        }
    }
    if failures > 0 {
        return Err(ApiError::bad_input(
            field,
            format!("{failures} stored value(s) of {} would not fit; change or clear them first", def.key),
        ));
    }
    let touched = converted.iter().map(|(id, _)| *id).collect();
    for chunk in converted.chunks(5_000) {
        let ids: Vec<Uuid> = chunk.iter().map(|(id, _)| *id).collect();
        let json: Vec<String> = chunk.iter().map(|(_, v)| v.to_string()).collect();
        let mut sql = Sql::new(&format!(
            "UPDATE {} t SET custom_fields = jsonb_set(t.custom_fields, ARRAY[",
            def.object.table()
        ));
        sql.bind(def.key.clone()).push("], v.value::jsonb) FROM unnest(").bind_as(ids, "uuid[]");
        sql.push(", ").bind_as(json, "text[]").push(") AS v(id, value) WHERE t.id = v.id");
        tx.execute(sql.statement()).await?;
    }
    Ok(touched)
}

/// Refuses a required rule while live records lack the value.
async fn check_required(tx: &TenantTx, def: &definition::Model) -> ApiResult<()> {
    let mut sql = Sql::new(&format!(
        "SELECT count(*) AS n FROM {} WHERE deleted_at IS NULL AND NOT custom_fields ? ",
        def.object.table()
    ));
    sql.bind(def.key.clone());
    let missing = scalar(tx, sql).await?;
    if missing > 0 {
        return Err(ApiError::bad_input(
            "required",
            format!("{missing} record(s) have no {}; fill them first", def.key),
        ));
    }
    Ok(())
}

/// Refuses a unique rule while live records share a value.
async fn check_unique(tx: &TenantTx, def: &definition::Model) -> ApiResult<()> {
    let mut sql = Sql::new("SELECT coalesce(sum(n - 1), 0)::bigint AS n FROM (SELECT count(*) AS n FROM ");
    sql.push(def.object.table()).push(" WHERE deleted_at IS NULL AND custom_fields ? ").bind(def.key.clone());
    sql.push(" GROUP BY custom_fields -> ").bind(def.key.clone()).push(" HAVING count(*) > 1) d");
    let duplicates = scalar(tx, sql).await?;
    if duplicates > 0 {
        return Err(ApiError::bad_input(
            "unique",
            format!("{duplicates} record(s) repeat a value of {}", def.key),
        ));
    }
    Ok(())
}

async fn scalar(tx: &TenantTx, sql: Sql) -> ApiResult<i64> {
    let row = tx.query_one(sql.statement()).await?;
    Ok(row.map(|r| r.try_get::<i64>("", "n")).transpose()?.unwrap_or(0))
}

/// Serializes definition changes of a tenant: conversions read and rewrite every value.
async fn lock_definitions(tx: &TenantTx) -> ApiResult<()> {
    lock_in_tenant(&**tx, crm_entities::custom_fields::DEFINITIONS_LOCK, false).await?;
    Ok(())
}

/// Whether a field's values are indexed: number, decimal and currency fields, highest first, so
/// pages sorted by one (largest amounts, best scores first) read the index in order and ranges
/// on it are found without a scan. Not dates (their casts are not immutable, which an index
/// needs) nor texts (a long one does not fit an index entry).
fn indexed(def: &definition::Model) -> bool {
    matches!(def.field_type, CustomFieldType::Number | CustomFieldType::Decimal | CustomFieldType::Currency)
}

fn index_name(def: &definition::Model) -> String {
    format!("custom_field_{}_idx", def.id.simple())
}

/// Drops the index of `before` and creates the one of `after` where their types call for it.
/// The expression is the one filters and sorts use (`sql_expr`), so the planner matches them.
async fn sync_index(
    tx: &TenantTx,
    before: Option<&definition::Model>,
    after: Option<&definition::Model>,
) -> ApiResult<()> {
    let same = |a: &definition::Model, b: &definition::Model| a.field_type == b.field_type && indexed(a);
    if let (Some(before), Some(after)) = (before, after)
        && same(before, after)
    {
        return Ok(());
    }
    if let Some(before) = before.filter(|def| indexed(def)) {
        tx.execute_unprepared(&format!("DROP INDEX IF EXISTS {}", index_name(before))).await?;
    }
    if let Some(after) = after.filter(|def| indexed(def)) {
        let (expr, _) = sql_expr(after, "custom_fields");
        tx.execute_unprepared(&format!(
            "CREATE INDEX {} ON {} (({expr}) DESC NULLS LAST)",
            index_name(after),
            after.object.table()
        ))
        .await?;
    }
    Ok(())
}

/// A definition after a change, and the records whose stored values the change rewrote.
pub struct Changed {
    pub definition: definition::Model,
    pub rewritten: Vec<Uuid>,
}

pub async fn create_field(tx: &TenantTx, new: NewField) -> ApiResult<Changed> {
    check_key(&new.key)?;
    let label = crm_platform::text::required("label", &new.label, 100)?;
    check_options(new.field_type, &new.options)?;
    lock_definitions(tx).await?;
    let existing =
        definition::Entity::find().filter(definition::Column::Object.eq(new.object)).all(&**tx).await?;
    if existing.iter().any(|def| def.key == new.key) {
        return Err(ApiError::Conflict(format!("a field with key {:?} already exists", new.key)));
    }
    if existing.len() >= MAX_FIELDS_PER_OBJECT {
        return Err(ApiError::bad_input(
            "object",
            format!("at most {MAX_FIELDS_PER_OBJECT} custom fields per object"),
        ));
    }
    let now = Utc::now();
    let def = definition::Model {
        id: Uuid::now_v7(),
        object: new.object,
        key: new.key,
        label,
        field_type: new.field_type,
        required: new.required,
        is_unique: new.unique,
        options: serde_json::to_value(&new.options)?,
        position: new.position.unwrap_or(existing.iter().map(|d| d.position + 1).max().unwrap_or(0)),
        created_at: now,
        updated_at: now,
    };
    // Records may already hold values under this key (written before it was defined).
    let rewritten = convert_values(tx, &def, "key").await?;
    if def.required {
        check_required(tx, &def).await?;
    }
    if def.is_unique {
        check_unique(tx, &def).await?;
    }
    let definition = def.into_active_model().reset_all().insert(&**tx).await?;
    sync_index(tx, None, Some(&definition)).await?;
    Ok(Changed { definition, rewritten })
}

async fn find(tx: &TenantTx, id: Uuid) -> ApiResult<definition::Model> {
    definition::Entity::find_by_id(id).one(&**tx).await?.ok_or(ApiError::NotFound("custom field"))
}

pub async fn update_field(tx: &TenantTx, id: Uuid, change: FieldChange) -> ApiResult<Changed> {
    lock_definitions(tx).await?;
    let before = find(tx, id).await?;
    let mut def = before.clone();
    if let Some(label) = &change.label {
        def.label = crm_platform::text::required("label", label, 100)?;
    }
    if let Some(field_type) = change.field_type {
        def.field_type = field_type;
    }
    if let Some(options) = &change.options {
        def.options = serde_json::to_value(options)?;
    }
    let options: Vec<FieldOption> = serde_json::from_value(def.options.clone()).unwrap_or_default();
    let choice = matches!(def.field_type, CustomFieldType::Select | CustomFieldType::MultiSelect);
    if !choice {
        def.options = Value::Array(Vec::new());
    }
    check_options(def.field_type, if choice { &options } else { &[] })?;
    if let Some(required) = change.required {
        def.required = required;
    }
    if let Some(unique) = change.unique {
        def.is_unique = unique;
    }
    if let Some(position) = change.position {
        def.position = position;
    }
    let mut rewritten = Vec::new();
    if def.field_type != before.field_type || def.options != before.options {
        let field = if def.field_type != before.field_type { "type" } else { "options" };
        rewritten = convert_values(tx, &def, field).await?;
    }
    if def.required && !before.required {
        check_required(tx, &def).await?;
    }
    if def.is_unique && !before.is_unique {
        check_unique(tx, &def).await?;
    }
    def.updated_at = Utc::now();
    let definition = def.into_active_model().reset_all().update(&**tx).await?;
    sync_index(tx, Some(&before), Some(&definition)).await?;
    Ok(Changed { definition, rewritten })
}

/// Deletes a definition and its values from every record.
pub async fn delete_field(tx: &TenantTx, id: Uuid) -> ApiResult<Changed> {
    lock_definitions(tx).await?;
    let def = find(tx, id).await?;
    let mut sql = Sql::new(&format!("UPDATE {} SET custom_fields = custom_fields - ", def.object.table()));
    sql.bind(def.key.clone()).push(" WHERE custom_fields ? ").bind(def.key.clone()).push(" RETURNING id");
    let rows = tx.query_all(sql.statement()).await?;
    let rewritten = rows.iter().map(|row| row.try_get("", "id")).collect::<Result<Vec<Uuid>, _>>()?;
    definition::Entity::delete_by_id(id).exec(&**tx).await?;
    sync_index(tx, Some(&def), None).await?;
    Ok(Changed { definition: def, rewritten })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_identifiers() {
        for good in ["budget", "a", "tier_2"] {
            assert!(check_key(good).is_ok(), "{good}");
        }
        for bad in ["", "Budget", "2nd", "a-b", "a b", "x'; drop", &"a".repeat(64)] {
            assert!(check_key(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn options_belong_to_select_fields_only() {
        let one = vec![FieldOption { value: "a".into(), label: "A".into() }];
        assert!(check_options(CustomFieldType::Select, &one).is_ok());
        assert!(check_options(CustomFieldType::Select, &[]).is_err());
        assert!(check_options(CustomFieldType::Text, &one).is_err());
        let twice = vec![one[0].clone(), one[0].clone()];
        assert!(check_options(CustomFieldType::MultiSelect, &twice).is_err());
    }
}
