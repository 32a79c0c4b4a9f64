//! Contact pages: filter, sort (fields, custom fields, search relevance), keyset cursors over the
//! sort values, the trash, and the total count.

use async_graphql::{Enum, InputObject};
use crm_entities::custom_fields::{Definitions, sql_expr};
use crm_entities::ids::CompanyId;
use crm_entities::tenant::contact;
use crm_entities::tenant::custom_field_definition::CustomFieldObject;
use crm_platform::keyset::{Keyset, SortKey};
use crm_platform::sql::Sql;
use crm_platform::{ApiError, ApiResult, TenantTx};
use sea_orm::ConnectionTrait;

use crate::filters::{ContactFilter, SEARCH_THRESHOLD, Scope, SortDirection, contact_rank, search_text};
use crm_platform::paging::{self, Page};

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContactSortField {
    FirstName,
    LastName,
    Email,
    JobTitle,
    LifecycleStage,
    CompanyName,
    CreatedAt,
    UpdatedAt,
    /// How well the contact matches `filter.search` (best first by default).
    Relevance,
}

/// One sort term: a field or a custom field (by key), ascending unless told otherwise.
#[derive(InputObject, Clone, Debug)]
pub struct ContactOrder {
    pub field: Option<ContactSortField>,
    pub custom_field: Option<String>,
    #[graphql(default)]
    pub direction: SortDirection,
}

/// A request for one page of contacts.
#[derive(Default)]
pub struct ContactQuery {
    pub filter: Option<ContactFilter>,
    pub order: Vec<ContactOrder>,
    pub first: u64,
    pub after: Option<String>,
    pub trashed: bool,
    /// Only the contacts of this company (`Company.contacts`).
    pub company: Option<CompanyId>,
}

/// Everything a page and its count share: the condition, the search and how it matches.
struct Plan {
    condition: Sql,
    search: Option<String>,
    fuzzy: bool,
    keyset: Keyset,
}

const MAX_ORDER_TERMS: usize = 5;

/// What plans of one request are made from: the definitions its filter and sort may name, and
/// its search text. A search matches the text as typed first; only when no contact holds it are
/// similar names searched (a typo), so exact matches never drown in near ones.
struct Planner<'a> {
    query: &'a ContactQuery,
    contact_fields: Definitions,
    company_fields: Definitions,
    search: Option<String>,
}

impl<'a> Planner<'a> {
    async fn new(tx: &TenantTx, query: &'a ContactQuery) -> ApiResult<Self> {
        tx.execute_unprepared(paging::PLAN_SETTINGS).await?;
        let needs_fields = query.order.iter().any(|o| o.custom_field.is_some())
            || query.filter.as_ref().is_some_and(ContactFilter::names_custom_fields);
        let (contact_fields, company_fields) = if needs_fields {
            (
                Definitions::load(&**tx, CustomFieldObject::Contact).await?,
                Definitions::load(&**tx, CustomFieldObject::Company).await?,
            )
        } else {
            let empty = Scope::without_fields();
            (empty.contact_fields, empty.company_fields)
        };
        let search = match &query.filter {
            Some(filter) => filter.search.as_deref().map(search_text).transpose()?.flatten(),
            None => None,
        };
        Ok(Self { query, contact_fields, company_fields, search })
    }

    /// Whether a fuzzy plan may follow an exact one that found nothing.
    fn searching(&self) -> bool {
        self.search.is_some()
    }

    async fn plan(&self, tx: &TenantTx, fuzzy: bool) -> ApiResult<Plan> {
        let mut scope = Scope::new(self.contact_fields.clone(), self.company_fields.clone());
        scope.fuzzy = fuzzy;
        let query = self.query;
        let mut condition =
            Sql::new(if query.trashed { "c.deleted_at IS NOT NULL" } else { "c.deleted_at IS NULL" });
        if let Some(company) = query.company {
            condition.push(" AND c.company_id = ").bind(company.0);
        }
        if let Some(filter) = &query.filter {
            condition.push(" AND ").append(filter.to_sql(&mut scope, "c", 0)?);
        }
        if fuzzy {
            set_search_threshold(tx).await?;
        }
        let keyset = keyset(&scope.contact_fields, &query.order, self.searching(), fuzzy)?;
        Ok(Plan { condition, search: self.search.clone(), fuzzy, keyset })
    }

    /// Whether any contact holds the search text as typed (for pages after the first, which
    /// must go on the way the first one went).
    async fn held_as_typed(&self, tx: &TenantTx) -> ApiResult<bool> {
        // Planned apart from the EXISTS (a materialized CTE, read only as far as its first
        // row): told that one row will do, the planner scans the table hoping to meet one
        // early, and reads it all when no contact holds the text.
        let mut probe = Sql::new("WITH held AS MATERIALIZED (SELECT 1 FROM contacts c WHERE ");
        probe
            .append(self.plan(tx, false).await?.condition)
            .push(") SELECT EXISTS (SELECT 1 FROM held) AS found");
        let found =
            tx.query_one(probe.statement()).await?.map(|row| row.try_get::<bool>("", "found")).transpose()?;
        Ok(found == Some(true))
    }
}

fn keyset(defs: &Definitions, order: &[ContactOrder], searching: bool, fuzzy: bool) -> ApiResult<Keyset> {
    if order.len() > MAX_ORDER_TERMS {
        return Err(ApiError::bad_input(
            "orderBy",
            format!("orderBy allows at most {MAX_ORDER_TERMS} terms"),
        ));
    }
    let mut keys = Vec::new();
    for term in order {
        let descending = term.direction == SortDirection::Desc;
        let (expr, sql_type) = match (term.field, &term.custom_field) {
            (Some(field), None) => {
                if field == ContactSortField::Relevance && !searching {
                    return Err(ApiError::bad_input("orderBy", "RELEVANCE needs filter.search"));
                }
                field_expr(field, fuzzy)
            }
            (None, Some(key)) => sql_expr(defs.require(key)?, "c.custom_fields"),
            _ => {
                return Err(ApiError::bad_input(
                    "orderBy",
                    "each orderBy term names either field or customField",
                ));
            }
        };
        keys.push(SortKey { expr, sql_type, descending });
    }
    if keys.is_empty() && searching {
        let (expr, sql_type) = field_expr(ContactSortField::Relevance, fuzzy);
        keys.push(SortKey { expr, sql_type, descending: true });
    }
    Ok(Keyset { keys, id_expr: "c.id".to_owned() })
}

/// A field's sort expression; relevance is named by how it was computed, so a cursor of one kind
/// of search is refused by the other.
fn field_expr(field: ContactSortField, fuzzy: bool) -> (String, &'static str) {
    use ContactSortField as F;
    let text = |expr: &str| (expr.to_owned(), "text");
    match field {
        F::FirstName => text("lower(c.first_name)"),
        F::LastName => text("lower(c.last_name)"),
        F::Email => text("c.email"),
        F::JobTitle => text("lower(c.job_title)"),
        F::LifecycleStage => text("c.lifecycle_stage"),
        F::CompanyName => text("(SELECT lower(co.name) FROM companies co WHERE co.id = c.company_id)"),
        F::CreatedAt => ("c.created_at".to_owned(), "timestamptz"),
        F::UpdatedAt => ("c.updated_at".to_owned(), "timestamptz"),
        F::Relevance => ((if fuzzy { "r.similar" } else { "r.exact" }).to_owned(), "real"),
    }
}

/// Scopes the search threshold to this transaction.
async fn set_search_threshold(tx: &TenantTx) -> ApiResult<()> {
    tx.execute_unprepared(&format!(
        "SELECT set_config('pg_trgm.word_similarity_threshold', '{SEARCH_THRESHOLD}', true)"
    ))
    .await?;
    Ok(())
}

pub async fn list_contacts(tx: &TenantTx, query: &ContactQuery) -> ApiResult<Page<contact::Model>> {
    let planner = Planner::new(tx, query).await?;
    if !planner.searching() {
        return fetch(tx, planner.plan(tx, false).await?, query).await;
    }
    if query.after.is_some() {
        let fuzzy = !planner.held_as_typed(tx).await?;
        return fetch(tx, planner.plan(tx, fuzzy).await?, query).await;
    }
    // A first page is empty exactly when no contact holds the text as typed.
    let page = fetch(tx, planner.plan(tx, false).await?, query).await?;
    if !page.rows.is_empty() {
        return Ok(page);
    }
    fetch(tx, planner.plan(tx, true).await?, query).await
}

async fn fetch(tx: &TenantTx, plan: Plan, query: &ContactQuery) -> ApiResult<Page<contact::Model>> {
    let mut from = Sql::new("contacts c");
    if let Some(text) = &plan.search {
        let column = if plan.fuzzy { "similar" } else { "exact" };
        from.push(" CROSS JOIN LATERAL (SELECT (").append(contact_rank("c", text, plan.fuzzy));
        from.push(&format!(")::real AS {column}) r"));
    }
    paging::fetch::<contact::Entity>(
        tx,
        "c",
        from,
        plan.condition,
        &plan.keyset,
        query.after.as_deref(),
        query.first,
    )
    .await
}

/// How many contacts match, across all pages.
pub async fn count_contacts(tx: &TenantTx, query: &ContactQuery) -> ApiResult<i64> {
    let planner = Planner::new(tx, query).await?;
    let count = paging::count(tx, "contacts c", planner.plan(tx, false).await?.condition).await?;
    if count > 0 || !planner.searching() {
        return Ok(count);
    }
    paging::count(tx, "contacts c", planner.plan(tx, true).await?.condition).await
}
