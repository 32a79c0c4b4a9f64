use sea_orm::entity::prelude::*;

crm_platform::stored_enum! {
    /// How urgent a task is.
    pub enum TaskPriority {
        Low,
        Normal,
        High,
        Urgent,
    }
}

crm_platform::stored_enum! {
    /// Whether a task is still to do.
    pub enum TaskStatus {
        Open,
        Done,
    }
}

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "tasks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub title: String,
    pub notes: Option<String>,
    pub due_at: Option<DateTimeUtc>,
    pub remind_at: Option<DateTimeUtc>,
    pub reminded_at: Option<DateTimeUtc>,
    pub assignee_id: Option<Uuid>,
    pub priority: TaskPriority,
    pub status: TaskStatus,
    pub completed_at: Option<DateTimeUtc>,
    pub completed_by: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub company_id: Option<Uuid>,
    pub deal_id: Option<Uuid>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
