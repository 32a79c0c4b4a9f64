//! Deal pages: filter, sort (fields, custom fields, board order), keyset cursors over the sort
//! values, the trash, and the total count.

use async_graphql::{Enum, InputObject};
use crm_entities::custom_fields::{Definitions, sql_expr};
use crm_entities::tenant::custom_field_definition::CustomFieldObject;
use crm_entities::tenant::deal;
use crm_platform::keyset::{Keyset, SortKey};
use crm_platform::paging::{self, Page, SortDirection};
use crm_platform::sql::Sql;
use crm_platform::{ApiError, ApiResult, TenantTx};
use sea_orm::ConnectionTrait;

use super::filters::{DealFilter, PROBABILITY};

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DealSortField {
    Title,
    Amount,
    ExpectedCloseDate,
    /// The deal's own probability, else its stage's.
    Probability,
    /// Stage order within the pipeline.
    Stage,
    /// Board order within the stage.
    Position,
    CreatedAt,
    UpdatedAt,
    ClosedAt,
}

/// One sort term: a field or a custom field (by key), ascending unless told otherwise.
#[derive(InputObject, Clone, Debug)]
pub struct DealOrder {
    pub field: Option<DealSortField>,
    pub custom_field: Option<String>,
    #[graphql(default)]
    pub direction: SortDirection,
}

#[derive(Default)]
pub struct DealQuery {
    pub filter: Option<DealFilter>,
    pub order: Vec<DealOrder>,
    pub first: u64,
    pub after: Option<String>,
    pub trashed: bool,
}

const MAX_ORDER_TERMS: usize = 5;

fn field_expr(field: DealSortField) -> (String, &'static str) {
    use DealSortField as F;
    let (expr, sql_type) = match field {
        F::Title => ("lower(d.title)", "text"),
        F::Amount => ("d.amount", "numeric"),
        F::ExpectedCloseDate => ("d.expected_close_date", "date"),
        F::Probability => (PROBABILITY, "integer"),
        F::Stage => ("(SELECT s.position FROM pipeline_stages s WHERE s.id = d.stage_id)", "integer"),
        F::Position => ("d.position", "float8"),
        F::CreatedAt => ("d.created_at", "timestamptz"),
        F::UpdatedAt => ("d.updated_at", "timestamptz"),
        F::ClosedAt => ("d.closed_at", "timestamptz"),
    };
    (expr.to_owned(), sql_type)
}

fn keyset(defs: &Definitions, order: &[DealOrder]) -> ApiResult<Keyset> {
    if order.len() > MAX_ORDER_TERMS {
        return Err(ApiError::bad_input(
            "orderBy",
            format!("orderBy allows at most {MAX_ORDER_TERMS} terms"),
        ));
    }
    let mut keys = Vec::new();
    for term in order {
        let (expr, sql_type) = match (term.field, &term.custom_field) {
            (Some(field), None) => field_expr(field),
            (None, Some(key)) => sql_expr(defs.require(key)?, "d.custom_fields"),
            _ => {
                return Err(ApiError::bad_input(
                    "orderBy",
                    "each orderBy term names either field or customField",
                ));
            }
        };
        keys.push(SortKey { expr, sql_type, descending: term.direction == SortDirection::Desc });
    }
    if keys.is_empty() {
        // Newest first, as before any order is asked for.
        keys.push(SortKey { expr: "d.created_at".to_owned(), sql_type: "timestamptz", descending: true });
    }
    Ok(Keyset { keys, id_expr: "d.id".to_owned() })
}

async fn plan(tx: &TenantTx, query: &DealQuery) -> ApiResult<(Sql, Keyset)> {
    tx.execute_unprepared(paging::PLAN_SETTINGS).await?;
    let needs_fields = query.order.iter().any(|o| o.custom_field.is_some())
        || query.filter.as_ref().is_some_and(DealFilter::names_custom_fields);
    let defs = if needs_fields {
        Definitions::load(&**tx, CustomFieldObject::Deal).await?
    } else {
        Definitions { object: CustomFieldObject::Deal, fields: Vec::new() }
    };
    let mut condition =
        Sql::new(if query.trashed { "d.deleted_at IS NOT NULL" } else { "d.deleted_at IS NULL" });
    if let Some(filter) = &query.filter {
        condition.push(" AND ").append(filter.to_sql(&defs, 0)?);
    }
    Ok((condition, keyset(&defs, &query.order)?))
}

pub async fn list_deals(tx: &TenantTx, query: &DealQuery) -> ApiResult<Page<deal::Model>> {
    let (condition, keyset) = plan(tx, query).await?;
    paging::fetch::<deal::Entity>(
        tx,
        "d",
        Sql::new("deals d"),
        condition,
        &keyset,
        query.after.as_deref(),
        query.first,
    )
    .await
}

/// How many deals match, across all pages.
pub async fn count_deals(tx: &TenantTx, query: &DealQuery) -> ApiResult<i64> {
    let (condition, _) = plan(tx, query).await?;
    paging::count(tx, "deals d", condition).await
}
