//! One keyset page of any record (contacts, companies, deals), its total count, and the
//! `counted_connection!` that serves them.

use crate::keyset::{Cursor, Keyset};
use crate::sql::Sql;
use crate::{ApiResult, TenantTx};
use sea_orm::{ConnectionTrait, EntityTrait, FromQueryResult};

/// How list statements are planned, for the transaction: each for its own values (a generic
/// plan cannot tell a search for a rare name from one for a common word, nor a selective filter
/// from a broad one), and run in its backend alone (starting parallel workers costs more than a
/// page's work saves).
pub const PLAN_SETTINGS: &str = "SELECT set_config('plan_cache_mode', 'force_custom_plan', true), \
     set_config('max_parallel_workers_per_gather', '0', true)";

/// The direction of one sort term of a list.
#[derive(async_graphql::Enum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SortDirection {
    #[default]
    Asc,
    Desc,
}

pub struct Page<M> {
    pub rows: Vec<(M, Cursor)>,
    pub has_next: bool,
}

/// Runs `SELECT {E's columns} {sort values} FROM {from} WHERE {condition} [AND after] ORDER BY …
/// LIMIT`, one row more than `first` to learn whether another page follows.
pub async fn fetch<E: EntityTrait>(
    tx: &TenantTx,
    alias: &str,
    from: Sql,
    condition: Sql,
    keyset: &Keyset,
    after: Option<&str>,
    first: u64,
) -> ApiResult<Page<E::Model>> {
    let mut sql = Sql::new(&format!("SELECT {}", crate::sql::columns::<E>(alias)));
    sql.push(&keyset.select_list()).push(" FROM ").append(from);
    sql.push(" WHERE ").append(condition);
    if let Some(after) = after {
        sql.push(" AND ").append(keyset.after(&Cursor::decode(after)?)?);
    }
    sql.push(" ORDER BY ").push(&keyset.order_by()).push(&format!(" LIMIT {}", first + 1));
    let results = tx.query_all(sql.statement()).await?;
    let has_next = results.len() as u64 > first;
    let mut rows = Vec::with_capacity(results.len());
    for result in results.iter().take(first as usize) {
        let id: uuid::Uuid = result.try_get("", "id")?;
        rows.push((E::Model::from_query_result(result, "")?, keyset.cursor_of(result, id)?));
    }
    Ok(Page { rows, has_next })
}

/// `SELECT count(*) FROM {from} WHERE {condition}`.
pub async fn count(tx: &TenantTx, from: &str, condition: Sql) -> ApiResult<i64> {
    let mut sql = Sql::new(&format!("SELECT count(*) AS n FROM {from} WHERE "));
    sql.append(condition);
    let row = tx.query_one(sql.statement()).await?;
    Ok(row.map(|r| r.try_get::<i64>("", "n")).transpose()?.unwrap_or(0))
}

/// Declares `$connection { edges, pageInfo, totalCount }` and its `$edge` for a keyset-paged
/// list: `load` reads one page with `$list`; `totalCount` runs `$count` only when asked for.
#[macro_export]
macro_rules! counted_connection {
    ($(#[$meta:meta])* $connection:ident, $edge:ident, $node:ident, $query:ty, $list:path, $count:path) => {
        #[derive(async_graphql::SimpleObject)]
        pub struct $edge {
            pub cursor: String,
            pub node: $node,
        }

        $(#[$meta])*
        pub struct $connection {
            edges: Vec<$edge>,
            page_info: $crate::pagination::PageInfo,
            query: $query,
        }

        impl $connection {
            pub async fn load(ctx: &async_graphql::Context<'_>, query: $query) -> async_graphql::Result<Self> {
                let caller = $crate::Caller::of(ctx)?;
                let tx = caller.tx().await?;
                let page = $list(&tx, &query).await?;
                tx.commit().await?;
                let edges: Vec<$edge> = page
                    .rows
                    .into_iter()
                    .map(|(row, cursor)| $edge { cursor: cursor.encode(), node: $node(row) })
                    .collect();
                let end_cursor = edges.last().map(|e| e.cursor.clone());
                let page_info = $crate::pagination::PageInfo { has_next_page: page.has_next, end_cursor };
                Ok(Self { edges, page_info, query })
            }
        }

        #[async_graphql::Object]
        impl $connection {
            async fn edges(&self) -> &[$edge] {
                &self.edges
            }
            async fn page_info(&self) -> &$crate::pagination::PageInfo {
                &self.page_info
            }
            /// Every match across pages.
            async fn total_count(&self, ctx: &async_graphql::Context<'_>) -> async_graphql::Result<i64> {
                let caller = $crate::Caller::of(ctx)?;
                let tx = caller.tx().await?;
                let count = $count(&tx, &self.query).await?;
                tx.commit().await?;
                Ok(count)
            }
        }
    };
}
