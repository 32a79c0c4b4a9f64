use sea_orm::entity::prelude::*;

crm_platform::stored_enum! {
    /// How often the activity digest email goes out.
    pub enum Digest {
        Daily,
        Weekly,
        Never,
    }
}

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "user_preferences")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    pub email_notifications: bool,
    pub digest: Digest,
    /// `None` follows the organization's timezone.
    pub timezone: Option<String>,
    /// `None` follows the organization's locale.
    pub locale: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
