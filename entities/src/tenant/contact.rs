use sea_orm::entity::prelude::*;

crm_platform::stored_enum! {
    /// Where a contact stands with the organization.
    pub enum LifecycleStage {
        Lead,
        Prospect,
        Customer,
        Churned,
        Other,
    }
}

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "contacts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub first_name: String,
    pub last_name: String,
    /// The primary email; `additional_emails` holds the others.
    pub email: Option<String>,
    pub additional_emails: Vec<String>,
    /// The primary phone; `additional_phones` holds the others.
    pub phone: Option<String>,
    pub additional_phones: Vec<String>,
    pub job_title: Option<String>,
    pub company_id: Option<Uuid>,
    pub owner_id: Option<Uuid>,
    pub tags: Vec<String>,
    pub lifecycle_stage: LifecycleStage,
    pub source: Option<String>,
    pub address: Option<Json>,
    pub notes: Option<String>,
    pub custom_fields: Json,
    pub created_by: Option<Uuid>,
    pub updated_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub deleted_at: Option<DateTimeUtc>,
    /// Set when this contact was merged into another; it then stays in the trash.
    pub merged_into: Option<Uuid>,
    /// Maintained by a trigger from the fields above; written by nobody else.
    #[serde(skip)]
    pub search_text: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
