use sea_orm::entity::prelude::*;

crm_platform::stored_enum! {
    /// What an organization pays for; it sets how many seats it has.
    pub enum Plan {
        Free,
        Team,
        Enterprise,
    }
}

impl Plan {
    /// Members plus open invitations the plan allows.
    pub fn seat_limit(self) -> i64 {
        match self {
            Self::Free => 5,
            Self::Team => 50,
            Self::Enterprise => 1_000,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(schema_name = "crm", table_name = "tenants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub subdomain: String,
    pub plan: Plan,
    pub created_at: DateTimeUtc,
    /// IANA time zone name.
    pub timezone: String,
    /// ISO 4217 code.
    pub currency: String,
    /// BCP 47 language tag.
    pub locale: String,
    pub fiscal_year_start_month: i16,
    /// Set when the owner deleted the organization; it is purged after the retention period.
    pub deleted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
