use sea_orm::entity::prelude::*;

/// A stage a deal entered: at its creation (`from_stage_id` none) or by a move. Stage names are
/// kept as they were, so history reads the same after a stage is renamed or deleted.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "deal_stage_changes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub deal_id: Uuid,
    pub pipeline_id: Uuid,
    pub from_stage_id: Option<Uuid>,
    pub from_stage_name: Option<String>,
    pub to_stage_id: Uuid,
    pub to_stage_name: String,
    pub changed_by: Option<Uuid>,
    pub changed_at: DateTimeUtc,
    /// When the deal had entered the stage it left.
    pub from_entered_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
