//! The one rule that must never break: tenant data is read and written only inside a transaction
//! whose `search_path` was set with `set_config(…, true)` — transaction-local, so it ends at
//! COMMIT, ROLLBACK or a dropped connection and can never leak to the next request on a pooled
//! connection. The schema name is derived from a [`TenantId`] here and nowhere else.

use std::ops::Deref;
use std::sync::LazyLock;
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, Statement, TransactionTrait};
use uuid::Uuid;

use crate::db::Db;

/// The only place a Postgres role reads global data from; tenant schemas never shadow it.
pub const GLOBAL_SCHEMA: &str = "crm";

/// Upper bound for one tenant statement, so a slow query cannot hold a pooled connection.
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct TenantId(pub Uuid);

impl TenantId {
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }

    /// `tenant_` + the id's 32 lowercase hex digits.
    pub fn schema(&self) -> SchemaName {
        SchemaName(format!("tenant_{}", self.0.simple()))
    }
}

impl Default for TenantId {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Display for TenantId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A tenant schema name that matches `^tenant_[0-9a-f]{32}$`. Safe to splice into DDL and to
/// bind as a `search_path` (it holds no comma, quote or space).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaName(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("not a tenant schema name")]
pub struct InvalidSchemaName;

impl SchemaName {
    pub fn parse(raw: &str) -> Result<Self, InvalidSchemaName> {
        let hex = raw.strip_prefix("tenant_").ok_or(InvalidSchemaName)?;
        let valid = hex.len() == 32 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if valid { Ok(Self(raw.to_owned())) } else { Err(InvalidSchemaName) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Double-quoted for DDL. The pattern already excludes quotes; quoting keeps it an identifier.
    pub fn quoted(&self) -> String {
        format!("\"{}\"", self.0)
    }
}

static SCOPE_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT set_config('search_path', $1, true), set_config('statement_timeout', '{}ms', true)",
        STATEMENT_TIMEOUT.as_millis()
    )
});

/// A transaction scoped to one tenant's schema. Dropping it without [`TenantTx::commit`] rolls
/// back, which also ends the scope.
pub struct TenantTx {
    txn: DatabaseTransaction,
    tenant: TenantId,
}

impl TenantTx {
    pub async fn begin(db: &Db, tenant: TenantId) -> Result<Self, DbErr> {
        let txn = db.conn().begin().await?;
        scope_to_schema(&txn, &tenant.schema()).await?;
        Ok(Self { txn, tenant })
    }

    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    /// Commits; a failure is an internal error (never a raw database message for the client).
    pub async fn commit(self) -> crate::ApiResult<()> {
        Ok(self.txn.commit().await?)
    }
}

impl Deref for TenantTx {
    type Target = DatabaseTransaction;

    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

/// Sets the transaction-local search_path of an open transaction. Used by [`TenantTx::begin`] and
/// by provisioning, which creates the schema inside the same transaction first.
pub async fn scope_to_schema(txn: &DatabaseTransaction, schema: &SchemaName) -> Result<(), DbErr> {
    txn.execute(Statement::from_sql_and_values(
        DbBackend::Postgres,
        SCOPE_SQL.as_str(),
        [schema.as_str().into()],
    ))
    .await?;
    Ok(())
}

/// Takes a transaction-level advisory lock named `key` within the current tenant (the schema
/// the search_path selects), so one tenant's lock never holds up another's. Shared locks exclude
/// only the exclusive holder of the same key.
pub async fn lock_in_tenant(conn: &impl ConnectionTrait, key: &str, shared: bool) -> Result<(), DbErr> {
    let function = if shared { "pg_advisory_xact_lock_shared" } else { "pg_advisory_xact_lock" };
    conn.execute(Statement::from_sql_and_values(
        DbBackend::Postgres,
        format!("SELECT {function}(hashtext(current_schema() || ':' || $1))"),
        [key.into()],
    ))
    .await?;
    Ok(())
}

/// The reads of one caller's loaders in one tenant. While a request runs inside
/// [`crate::batching::drive`], its batches share one transaction: one BEGIN and scope for every
/// nested level instead of one per batch. It is rolled back when the request ends (it only
/// read), on a pooled connection, off the response's path. Outside of a driven request (a
/// websocket's events) each read has a transaction of its own, so none stays open.
pub struct RequestReads {
    db: Db,
    tenant: TenantId,
    shared: std::sync::atomic::AtomicBool,
    tx: tokio::sync::Mutex<Option<TenantTx>>,
}

impl RequestReads {
    pub fn new(db: Db, tenant: TenantId) -> Self {
        Self { db, tenant, shared: false.into(), tx: tokio::sync::Mutex::new(None) }
    }

    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    /// Runs `query` in the tenant's scope: in the request's shared transaction, or in one of its
    /// own. A failed query ends the shared transaction (Postgres aborted it); the next read
    /// begins another.
    pub async fn read<T>(
        &self,
        query: impl AsyncFnOnce(&DatabaseTransaction) -> Result<T, DbErr>,
    ) -> Result<T, DbErr> {
        use std::sync::atomic::Ordering;
        if !self.shared.load(Ordering::Acquire) {
            let tx = TenantTx::begin(&self.db, self.tenant).await?;
            let found = query(&tx.txn).await?;
            tx.txn.commit().await?;
            return Ok(found);
        }
        let mut slot = self.tx.lock().await;
        let tx = match slot.take() {
            Some(tx) => tx,
            None => TenantTx::begin(&self.db, self.tenant).await?,
        };
        let found = query(&tx.txn).await;
        if found.is_ok() {
            *slot = Some(tx);
        }
        found
    }

    /// From now on reads share one transaction, until [`RequestReads::end`]. Only for a request
    /// run by [`crate::batching::drive`], which ends it.
    pub fn share(&self) {
        self.shared.store(true, std::sync::atomic::Ordering::Release);
    }

    /// Ends sharing and drops the shared transaction, which rolls it back.
    pub fn end(&self) {
        self.shared.store(false, std::sync::atomic::Ordering::Release);
        if let Ok(mut slot) = self.tx.try_lock() {
            slot.take();
        }
    }
}

/// Rows of entity `E` whose `column` is one of `ids`, read in one statement in the tenant's
/// scope. The building block of every batched loader.
pub async fn find_by_ids<E>(
    reads: &RequestReads,
    column: E::Column,
    ids: impl IntoIterator<Item = Uuid>,
) -> Result<Vec<E::Model>, DbErr>
where
    E: sea_orm::EntityTrait,
{
    use sea_orm::{ColumnTrait, QueryFilter};
    let condition = column.is_in(ids);
    reads.read(async |tx| E::find().filter(condition).all(tx).await).await
}

/// Declares a request-scoped loader struct bound to the caller's tenant.
#[macro_export]
macro_rules! tenant_loader {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        pub struct $name {
            reads: std::sync::Arc<$crate::tenancy::RequestReads>,
        }

        impl $crate::auth::TenantLoader for $name {
            fn new(caller: &$crate::Caller) -> Self {
                Self { reads: caller.reads() }
            }
        }
    };
}

/// Declares a request-scoped loader of entity rows by their typed `id`: one statement per batch.
#[macro_export]
macro_rules! id_loader {
    ($(#[$meta:meta])* $name:ident, $id:ident, $entity:ident) => {
        $crate::tenant_loader!($(#[$meta])* $name);

        impl async_graphql::dataloader::Loader<$id> for $name {
            type Value = $entity::Model;
            type Error = async_graphql::Error;

            async fn load(&self, ids: &[$id]) -> Result<std::collections::HashMap<$id, $entity::Model>, Self::Error> {
                let rows = $crate::tenancy::find_by_ids::<$entity::Entity>(
                    &self.reads,
                    $entity::Column::Id,
                    ids.iter().map(|id| id.0),
                )
                .await
                .map_err($crate::ApiError::from)?;
                Ok(rows.into_iter().map(|row| ($id(row.id), row)).collect())
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_name_is_derived_from_the_id() {
        let id = TenantId(Uuid::parse_str("0194f0c2-7d2a-7cc1-9b1e-3f5a1b2c3d4e").expect("uuid"));
        assert_eq!(id.schema().as_str(), "tenant_0194f0c27d2a7cc19b1e3f5a1b2c3d4e");
        assert_eq!(SchemaName::parse(id.schema().as_str()), Ok(id.schema()));
    }

    #[test]
    fn hostile_schema_names_are_rejected() {
        let long = format!("tenant_{}", "a".repeat(57));
        let hostile = [
            "a\";DROP SCHEMA public CASCADE;--",
            "public",
            "pg_catalog",
            "pg_x",
            "tenant_a,public",
            "tenant_0194f0c27d2a7cc19b1e3f5a1b2c3d4e,public",
            "TENANT_0194F0C27D2A7CC19B1E3F5A1B2C3D4E",
            "tenant_0194f0c27d2a7cc19b1e3f5a1b2c3d4\u{e9}",
            "tenant_0194f0c27d2a7cc19b1e3f5a1b2c3d4e ",
            "tenant_",
            long.as_str(),
        ];
        for raw in hostile {
            assert_eq!(SchemaName::parse(raw), Err(InvalidSchemaName), "{raw:?}");
        }
    }
}
