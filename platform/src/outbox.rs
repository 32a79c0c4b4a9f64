//! The outbox table (`crm.outbox`): events wait here, written in the transaction of the change
//! that caused them, until the relay has JetStream's acknowledgement.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(schema_name = "crm", table_name = "outbox")]
pub struct Model {
    /// The event id (and the NATS message id, so a re-publish is deduplicated).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub subject: String,
    /// The whole envelope.
    pub payload: Json,
    pub created_at: DateTimeUtc,
    pub published_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
