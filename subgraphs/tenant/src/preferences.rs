//! Each member's own preferences in an organization. The seed's flow creates the defaults when a
//! person arrives (`user.created` for a new organization's owner, `tenant.user_joined` for
//! everyone who accepts an invitation); a read before that consumer has run creates them too.

use chrono::Utc;
use crm_entities::events::tenancy::{UserCreated, UserJoined};
use crm_entities::tenant::user_preference::{self, Digest};
use crm_platform::consumer::Consumer;
use crm_platform::events::{DomainEvent, Envelope};
use crm_platform::ids::UserId;
use crm_platform::tenancy::scope_to_schema;
use crm_platform::{ApiError, ApiResult, Db, TenantId, TenantTx};
use futures::future::BoxFuture;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait, Set, Statement,
};

/// The durable consumers that set up a newcomer's defaults.
pub const CONSUMERS: [Consumer; 2] = [
    Consumer::of::<UserCreated>("tenant-preferences-user-created", on_arrival::<UserCreated>),
    Consumer::of::<UserJoined>("tenant-preferences-user-joined", on_arrival::<UserJoined>),
];

/// An event that brings a person into the organization.
trait Arrival: DomainEvent + Send + 'static {
    fn user(&self) -> UserId;
}

impl Arrival for UserCreated {
    fn user(&self) -> UserId {
        self.user_id
    }
}

impl Arrival for UserJoined {
    fn user(&self) -> UserId {
        self.user_id
    }
}

/// A validated change; `None` keeps the current value, `Some(None)` returns to the organization's.
#[derive(Default)]
pub struct PreferencesChange {
    pub email_notifications: Option<bool>,
    pub digest: Option<Digest>,
    pub timezone: Option<Option<String>>,
    pub locale: Option<Option<String>>,
}

fn on_arrival<'a, E: Arrival>(tx: &'a TenantTx, event: &'a Envelope) -> BoxFuture<'a, anyhow::Result<()>> {
    Box::pin(async move {
        let user = event.payload::<E>()?.user();
        // The tenant is the transaction's (taken from the subject); a user id that is not a member
        // of it is refused rather than given a row in someone else's organization.
        if !is_member(tx, user).await? {
            tracing::warn!(tenant.id = %tx.tenant(), user.id = %user, event.id = %event.id,
                "arrival event names a user who is not a member; ignored");
            return Ok(());
        }
        create_defaults(tx, user).await?;
        Ok(())
    })
}

async fn is_member(tx: &TenantTx, user: UserId) -> Result<bool, sea_orm::DbErr> {
    let row = tx
        .query_one(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT 1 FROM crm.memberships WHERE tenant_id = $1 AND user_id = $2",
            [tx.tenant().0.into(), user.into_uuid().into()],
        ))
        .await?;
    Ok(row.is_some())
}

async fn create_defaults(tx: &TenantTx, user: UserId) -> Result<(), sea_orm::DbErr> {
    let now = Utc::now();
    let defaults = user_preference::ActiveModel {
        user_id: Set(user.into_uuid()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    user_preference::Entity::insert(defaults)
        .on_conflict(OnConflict::column(user_preference::Column::UserId).do_nothing().to_owned())
        .do_nothing()
        .exec(&**tx)
        .await?;
    Ok(())
}

/// The caller's preferences, created with the defaults if the arrival event is still on its way.
pub async fn mine(tx: &TenantTx, user: UserId) -> ApiResult<user_preference::Model> {
    if let Some(found) = user_preference::Entity::find_by_id(user.into_uuid()).one(&**tx).await? {
        return Ok(found);
    }
    // A token can outlive its membership by a moment (removal signs out after committing).
    if !is_member(tx, user).await? {
        return Err(ApiError::NotFound("preferences"));
    }
    create_defaults(tx, user).await?;
    user_preference::Entity::find_by_id(user.into_uuid())
        .one(&**tx)
        .await?
        .ok_or(ApiError::NotFound("preferences"))
}

pub async fn update(
    tx: TenantTx,
    user: UserId,
    change: PreferencesChange,
) -> ApiResult<user_preference::Model> {
    let current = mine(&tx, user).await?;
    let mut row: user_preference::ActiveModel = current.into();
    if let Some(on) = change.email_notifications {
        row.email_notifications = Set(on);
    }
    if let Some(digest) = change.digest {
        row.digest = Set(digest);
    }
    if let Some(timezone) = change.timezone {
        row.timezone = Set(timezone);
    }
    if let Some(locale) = change.locale {
        row.locale = Set(locale);
    }
    row.updated_at = Set(Utc::now());
    let saved = row.update(&*tx).await?;
    tx.commit().await?;
    Ok(saved)
}

/// Drops a departing member's preferences, inside the transaction that removes the membership.
pub async fn forget(txn: &DatabaseTransaction, tenant: TenantId, user: UserId) -> Result<(), sea_orm::DbErr> {
    scope_to_schema(txn, &tenant.schema()).await?;
    user_preference::Entity::delete_by_id(user.into_uuid()).exec(txn).await?;
    Ok(())
}

/// Validates a timezone against Postgres's IANA list (shared with the organization settings).
pub async fn parse_timezone(db: &Db, raw: &str) -> ApiResult<String> {
    let timezone = raw.trim().to_owned();
    crate::settings::check_timezone(db, &timezone).await?;
    Ok(timezone)
}
