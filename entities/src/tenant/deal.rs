use sea_orm::entity::prelude::*;

crm_platform::stored_enum! {
    /// Whether a deal is still open, or closed as won or lost.
    pub enum DealStatus {
        Open,
        Won,
        Lost,
    }
}

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "deals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub title: String,
    #[sea_orm(column_type = "Decimal(Some((18, 2)))", nullable)]
    pub amount: Option<Decimal>,
    pub currency: String,
    pub pipeline_id: Uuid,
    pub stage_id: Uuid,
    pub company_id: Option<Uuid>,
    pub owner_id: Option<Uuid>,
    pub expected_close_date: Option<Date>,
    /// The win probability when it differs from the stage's default.
    pub probability: Option<i32>,
    pub status: DealStatus,
    pub lost_reason: Option<String>,
    pub closed_at: Option<DateTimeUtc>,
    /// Board order within the stage, ascending.
    pub position: f64,
    pub stage_entered_at: DateTimeUtc,
    /// Raised by every change; events carry it.
    pub version: i64,
    pub custom_fields: Json,
    pub created_by: Option<Uuid>,
    pub updated_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub deleted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
