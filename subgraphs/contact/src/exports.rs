//! CSV exports of all or filtered contacts, streamed page by page (memory stays flat whatever the
//! count). Cells that a spreadsheet would run as a formula are neutralised.

use std::collections::HashMap;

use axum::body::Bytes;
use chrono::SecondsFormat;
use crm_entities::custom_fields::{Definitions, as_text};
use crm_entities::tenant::contact;
use crm_platform::sql::Sql;
use crm_platform::{ApiError, ApiResult, Db, TenantId, TenantTx};
use sea_orm::ConnectionTrait;
use serde_json::Value;
use uuid::Uuid;

use crate::contacts::list::{ContactQuery, list_contacts};
use crate::filters::ContactFilter;

/// Rows per database round trip while streaming.
const PAGE_ROWS: u64 = 1000;

/// Built-in columns, in export order; custom fields follow as `custom:{key}`.
pub const COLUMNS: [&str; 22] = [
    "id",
    "firstName",
    "lastName",
    "email",
    "additionalEmails",
    "phone",
    "additionalPhones",
    "jobTitle",
    "company",
    "companyDomain",
    "tags",
    "lifecycleStage",
    "source",
    "notes",
    "street",
    "city",
    "region",
    "postalCode",
    "country",
    "ownerId",
    "createdAt",
    "updatedAt",
];

/// The columns of an export: the requested ones (checked), or all of them.
pub fn check_columns(requested: Option<Vec<String>>, defs: &Definitions) -> ApiResult<Vec<String>> {
    let all = || {
        COLUMNS.iter().map(|c| (*c).to_owned()).chain(defs.fields.iter().map(|d| format!("custom:{}", d.key)))
    };
    let Some(requested) = requested else { return Ok(all().collect()) };
    if requested.is_empty() || requested.len() > 200 {
        return Err(ApiError::bad_input("columns", "columns must name 1 to 200 columns"));
    }
    for column in &requested {
        if !all().any(|known| &known == column) {
            return Err(ApiError::bad_input(
                "columns",
                format!("{column:?} is not a column (use firstName, email, custom:key…)"),
            ));
        }
    }
    Ok(requested)
}

/// Records an export and returns its id; the download link is issued next to it.
pub async fn create_export(
    tx: &TenantTx,
    actor: Uuid,
    filter: Option<&ContactFilter>,
    columns: &[String],
) -> ApiResult<Uuid> {
    let id = Uuid::now_v7();
    let mut sql = Sql::new("INSERT INTO contact_exports (id, filter, columns, created_by) VALUES (");
    sql.bind(id).push(", ").bind_as(filter.map(serde_json::to_string).transpose()?, "jsonb");
    sql.push(", ").bind_as(serde_json::to_string(columns)?, "jsonb").push(", ").bind(actor).push(")");
    tx.execute(sql.statement()).await?;
    Ok(id)
}

/// A spreadsheet runs a cell starting with one of these as a formula.
pub fn neutralise(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{cell}") } else { cell }
}

struct Export {
    filter: Option<ContactFilter>,
    columns: Vec<String>,
}

async fn load(db: &Db, tenant: TenantId, id: Uuid) -> ApiResult<(Export, Definitions)> {
    let tx = TenantTx::begin(db, tenant).await?;
    let mut sql = Sql::new("SELECT filter, columns FROM contact_exports WHERE id = ");
    sql.bind(id);
    let row = tx.query_one(sql.statement()).await?.ok_or(ApiError::NotFound("contact export"))?;
    let filter: Option<Value> = row.try_get("", "filter")?;
    let columns: Value = row.try_get("", "columns")?;
    let defs = crate::contacts::definitions(&*tx).await?;
    tx.commit().await?;
    let export = Export {
        filter: filter.map(serde_json::from_value).transpose()?,
        columns: serde_json::from_value(columns)?,
    };
    Ok((export, defs))
}

/// Streams export `id` of `tenant` as CSV chunks into `sender`, one page at a time; stops when
/// the receiver goes away.
pub async fn stream(
    db: Db,
    tenant: TenantId,
    id: Uuid,
    sender: tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
) {
    if let Err(err) = write_all(&db, tenant, id, &sender).await {
        tracing::error!(error = ?err, export.id = %id, "export stopped");
        let _ = sender.send(Err(std::io::Error::other("the export stopped"))).await;
    }
}

async fn write_all(
    db: &Db,
    tenant: TenantId,
    id: Uuid,
    sender: &tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
) -> anyhow::Result<()> {
    let (export, _) = load(db, tenant, id).await.map_err(|err| anyhow::anyhow!(err.message()))?;
    let mut header = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    header.write_record(&export.columns)?;
    if sender.send(Ok(Bytes::from(header.into_inner()?))).await.is_err() {
        return Ok(());
    }
    let mut query = ContactQuery { filter: export.filter.clone(), first: PAGE_ROWS, ..Default::default() };
    loop {
        let tx = TenantTx::begin(db, tenant).await?;
        let page = list_contacts(&tx, &query).await.map_err(|err| anyhow::anyhow!(err.message()))?;
        let companies = companies_of(&tx, &page.rows.iter().map(|(row, _)| row).collect::<Vec<_>>()).await?;
        tx.commit().await.map_err(|err| anyhow::anyhow!(err.message()))?;
        let mut writer = csv::Writer::from_writer(Vec::with_capacity(64 * 1024));
        for (row, _) in &page.rows {
            let cells: Vec<String> =
                export.columns.iter().map(|c| neutralise(cell(row, c, &companies))).collect();
            writer.write_record(&cells)?;
        }
        if sender.send(Ok(Bytes::from(writer.into_inner()?))).await.is_err() {
            return Ok(());
        }
        match page.rows.last() {
            Some((_, cursor)) if page.has_next => query.after = Some(cursor.encode()),
            _ => return Ok(()),
        }
    }
}

async fn companies_of(
    tx: &TenantTx,
    rows: &[&contact::Model],
) -> anyhow::Result<HashMap<Uuid, (String, Option<String>)>> {
    let ids: Vec<Uuid> = rows.iter().filter_map(|row| row.company_id).collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut sql = Sql::new("SELECT id, name, domain FROM companies WHERE id = ANY(");
    sql.bind_as(ids, "uuid[]").push(")");
    let found = tx.query_all(sql.statement()).await?;
    let mut out = HashMap::new();
    for row in found {
        out.insert(row.try_get("", "id")?, (row.try_get("", "name")?, row.try_get("", "domain")?));
    }
    Ok(out)
}

fn cell(row: &contact::Model, column: &str, companies: &HashMap<Uuid, (String, Option<String>)>) -> String {
    let company = row.company_id.and_then(|id| companies.get(&id));
    let address =
        |part: &str| row.address.as_ref().and_then(|a| a.get(part)).map(as_text).unwrap_or_default();
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    match column {
        "id" => row.id.to_string(),
        "firstName" => row.first_name.clone(),
        "lastName" => row.last_name.clone(),
        "email" => text(&row.email),
        "additionalEmails" => row.additional_emails.join(";"),
        "phone" => text(&row.phone),
        "additionalPhones" => row.additional_phones.join(";"),
        "jobTitle" => text(&row.job_title),
        "company" => company.map(|(name, _)| name.clone()).unwrap_or_default(),
        "companyDomain" => company.and_then(|(_, domain)| domain.clone()).unwrap_or_default(),
        "tags" => row.tags.join(";"),
        "lifecycleStage" => {
            serde_json::to_value(row.lifecycle_stage).map(|v| as_text(&v)).unwrap_or_default()
        }
        "source" => text(&row.source),
        "notes" => text(&row.notes),
        "street" | "city" | "region" | "postalCode" | "country" => address(column),
        "ownerId" => row.owner_id.map(|id| id.to_string()).unwrap_or_default(),
        "createdAt" => row.created_at.to_rfc3339_opts(SecondsFormat::Millis, true),
        "updatedAt" => row.updated_at.to_rfc3339_opts(SecondsFormat::Millis, true),
        custom => custom
            .strip_prefix("custom:")
            .and_then(|key| row.custom_fields.get(key))
            .map(as_text)
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised() {
        for (raw, out) in [
            ("=1+1", "'=1+1"),
            ("+33 1", "'+33 1"),
            ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("Ann", "Ann"),
            ("", ""),
        ] {
            assert_eq!(neutralise(raw.to_owned()), out, "{raw:?}");
        }
    }
}
