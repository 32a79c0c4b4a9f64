use sea_orm::entity::prelude::*;

crm_platform::stored_enum! {
    /// The kind of record a custom field belongs to.
    pub enum CustomFieldObject {
        Contact,
        Company,
        Deal,
    }
}

crm_platform::stored_enum! {
    /// What a custom field holds, and so how its values are validated, filtered and sorted.
    pub enum CustomFieldType {
        Text,
        LongText,
        Number,
        Decimal,
        Currency,
        Date,
        DateTime,
        Boolean,
        Select,
        MultiSelect,
        Url,
        Email,
        Phone,
    }
}

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "custom_field_definitions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub object: CustomFieldObject,
    pub key: String,
    pub label: String,
    pub field_type: CustomFieldType,
    pub required: bool,
    pub is_unique: bool,
    /// `[{"value": "...", "label": "..."}]` for select and multi-select fields.
    pub options: Json,
    pub position: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
