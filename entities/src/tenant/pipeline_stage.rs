use sea_orm::entity::prelude::*;

crm_platform::stored_enum! {
    /// Whether a deal in a stage is still open, or closed as won or lost.
    pub enum StageKind {
        Open,
        Won,
        Lost,
    }
}

/// Name, win probability (%) and kind of the stages a pipeline starts with, in order.
pub const DEFAULT_STAGES: &[(&str, i32, StageKind)] = &[
    ("Lead", 10, StageKind::Open),
    ("Qualified", 25, StageKind::Open),
    ("Proposal", 50, StageKind::Open),
    ("Negotiation", 75, StageKind::Open),
    ("Closed Won", 100, StageKind::Won),
    ("Closed Lost", 0, StageKind::Lost),
];

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "pipeline_stages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub pipeline_id: Uuid,
    pub name: String,
    pub position: i32,
    pub probability: i32,
    pub kind: StageKind,
    /// A deal with no change for this many days is rotten.
    pub rotten_days: Option<i32>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
