//! Company pages: filter (including through contacts and parent), sort, keyset cursors, trash.

use async_graphql::{Enum, InputObject};
use crm_entities::custom_fields::{Definitions, sql_expr};
use crm_entities::ids::CompanyId;
use crm_entities::tenant::company;
use crm_entities::tenant::custom_field_definition::CustomFieldObject;
use crm_platform::keyset::{Keyset, SortKey};
use crm_platform::sql::Sql;
use crm_platform::{ApiError, ApiResult, TenantTx};
use sea_orm::ConnectionTrait;

use crate::filters::{CompanyFilter, SEARCH_THRESHOLD, Scope, SortDirection};
use crm_platform::paging::{self, Page};

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompanySortField {
    Name,
    Domain,
    Industry,
    Size,
    CreatedAt,
    UpdatedAt,
}

#[derive(InputObject, Clone, Debug)]
pub struct CompanyOrder {
    pub field: Option<CompanySortField>,
    pub custom_field: Option<String>,
    #[graphql(default)]
    pub direction: SortDirection,
}

#[derive(Default)]
pub struct CompanyQuery {
    pub filter: Option<CompanyFilter>,
    pub order: Vec<CompanyOrder>,
    pub first: u64,
    pub after: Option<String>,
    pub trashed: bool,
    /// Only the children of this company (`Company.children`).
    pub parent: Option<CompanyId>,
}

const MAX_ORDER_TERMS: usize = 5;

async fn plan(tx: &TenantTx, query: &CompanyQuery) -> ApiResult<(Sql, Keyset)> {
    tx.execute_unprepared(paging::PLAN_SETTINGS).await?;
    let needs_fields = query.order.iter().any(|o| o.custom_field.is_some())
        || query.filter.as_ref().is_some_and(CompanyFilter::names_custom_fields);
    let mut scope = if needs_fields {
        Scope::new(
            Definitions::load(&**tx, CustomFieldObject::Contact).await?,
            Definitions::load(&**tx, CustomFieldObject::Company).await?,
        )
    } else {
        Scope::without_fields()
    };
    let mut condition =
        Sql::new(if query.trashed { "co.deleted_at IS NOT NULL" } else { "co.deleted_at IS NULL" });
    if let Some(parent) = query.parent {
        condition.push(" AND co.parent_id = ").bind(parent.0);
    }
    if let Some(filter) = &query.filter {
        if filter.search.is_some() {
            tx.execute_unprepared(&format!(
                "SELECT set_config('pg_trgm.word_similarity_threshold', '{SEARCH_THRESHOLD}', true)"
            ))
            .await?;
        }
        condition.push(" AND ").append(filter.to_sql(&mut scope, "co", 0)?);
    }
    if query.order.len() > MAX_ORDER_TERMS {
        return Err(ApiError::bad_input(
            "orderBy",
            format!("orderBy allows at most {MAX_ORDER_TERMS} terms"),
        ));
    }
    let mut keys = Vec::new();
    for term in &query.order {
        let (expr, sql_type) = match (term.field, &term.custom_field) {
            (Some(field), None) => field_expr(field),
            (None, Some(key)) => sql_expr(scope.company_fields.require(key)?, "co.custom_fields"),
            _ => {
                return Err(ApiError::bad_input(
                    "orderBy",
                    "each orderBy term names either field or customField",
                ));
            }
        };
        keys.push(SortKey { expr, sql_type, descending: term.direction == SortDirection::Desc });
    }
    Ok((condition, Keyset { keys, id_expr: "co.id".to_owned() }))
}

fn field_expr(field: CompanySortField) -> (String, &'static str) {
    use CompanySortField as F;
    match field {
        F::Name => ("lower(co.name)".to_owned(), "text"),
        F::Domain => ("co.domain".to_owned(), "text"),
        F::Industry => ("lower(co.industry)".to_owned(), "text"),
        F::Size => ("co.size".to_owned(), "integer"),
        F::CreatedAt => ("co.created_at".to_owned(), "timestamptz"),
        F::UpdatedAt => ("co.updated_at".to_owned(), "timestamptz"),
    }
}

pub async fn list_companies(tx: &TenantTx, query: &CompanyQuery) -> ApiResult<Page<company::Model>> {
    let (condition, keyset) = plan(tx, query).await?;
    let from = Sql::new("companies co");
    paging::fetch::<company::Entity>(tx, "co", from, condition, &keyset, query.after.as_deref(), query.first)
        .await
}

pub async fn count_companies(tx: &TenantTx, query: &CompanyQuery) -> ApiResult<i64> {
    let (condition, _) = plan(tx, query).await?;
    paging::count(tx, "companies co", condition).await
}
