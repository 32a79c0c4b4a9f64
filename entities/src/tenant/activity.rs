use sea_orm::entity::prelude::*;

crm_platform::stored_enum! {
    /// What kind of interaction an activity records.
    pub enum ActivityType {
        Note,
        Call,
        Email,
        Meeting,
        Task,
    }
}

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "activities")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: ActivityType,
    pub subject: String,
    pub body: Option<String>,
    pub deal_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub company_id: Option<Uuid>,
    /// The user who logged it (none for activities the system records).
    pub author_id: Option<Uuid>,
    pub duration_minutes: Option<i32>,
    pub outcome: Option<String>,
    /// Who took part, as written (names or addresses).
    pub participants: Vec<String>,
    pub occurred_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
