use async_graphql::{Context, ID, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use crm_entities::custom_fields::{FieldOption, options};
use crm_entities::ids::{CompanyId, ContactId};
use crm_entities::tenant::contact::LifecycleStage;
use crm_entities::tenant::custom_field_definition::{self as definition, CustomFieldObject, CustomFieldType};
use crm_entities::tenant::{company, contact};
use crm_platform::user_ref::UserRef;
use crm_platform::{ApiError, Caller};
use serde::{Deserialize, Serialize};

use crate::companies::list::{CompanyQuery, count_companies, list_companies};
use crate::companies::{CompanyLoader, ancestor_ids};
use crate::contacts::ContactLoader;
use crate::contacts::duplicates::{DuplicateSignal, find_duplicates};
use crate::contacts::list::{ContactQuery, count_contacts, list_contacts};
use crate::filters::ContactFilter;

/// A postal address; every part is optional.
#[derive(SimpleObject, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    pub street: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

fn address(stored: Option<&serde_json::Value>) -> Option<Address> {
    stored.and_then(|value| serde_json::from_value(value.clone()).ok())
}

/// A person the organization deals with.
pub struct Contact(pub contact::Model);

#[Object]
impl Contact {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    async fn first_name(&self) -> &str {
        &self.0.first_name
    }
    async fn last_name(&self) -> &str {
        &self.0.last_name
    }
    /// First and last name.
    async fn name(&self) -> String {
        format!("{} {}", self.0.first_name, self.0.last_name).trim().to_owned()
    }
    /// The primary email.
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    async fn additional_emails(&self) -> &[String] {
        &self.0.additional_emails
    }
    /// Every email, the primary first.
    async fn emails(&self) -> Vec<&String> {
        self.0.email.iter().chain(&self.0.additional_emails).collect()
    }
    /// The primary phone.
    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }
    async fn additional_phones(&self) -> &[String] {
        &self.0.additional_phones
    }
    /// Every phone, the primary first.
    async fn phones(&self) -> Vec<&String> {
        self.0.phone.iter().chain(&self.0.additional_phones).collect()
    }
    async fn job_title(&self) -> Option<&str> {
        self.0.job_title.as_deref()
    }
    async fn tags(&self) -> &[String] {
        &self.0.tags
    }
    async fn lifecycle_stage(&self) -> LifecycleStage {
        self.0.lifecycle_stage
    }
    async fn source(&self) -> Option<&str> {
        self.0.source.as_deref()
    }
    async fn address(&self) -> Option<Address> {
        address(self.0.address.as_ref())
    }
    async fn notes(&self) -> Option<&str> {
        self.0.notes.as_deref()
    }
    /// Tenant-defined fields as a JSON object keyed by field key.
    async fn custom_fields(&self) -> Json<serde_json::Value> {
        Json(self.0.custom_fields.clone())
    }
    async fn owner(&self) -> Option<UserRef> {
        UserRef::of(self.0.owner_id)
    }
    async fn created_by(&self) -> Option<UserRef> {
        UserRef::of(self.0.created_by)
    }
    async fn updated_by(&self) -> Option<UserRef> {
        UserRef::of(self.0.updated_by)
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// When the contact was moved to the trash; null for a live contact.
    async fn deleted_at(&self) -> Option<DateTime<Utc>> {
        self.0.deleted_at
    }
    /// The contact this one was merged into.
    async fn merged_into(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Contact>> {
        let Some(id) = self.0.merged_into else { return Ok(None) };
        let caller = Caller::of(ctx)?;
        Ok(caller.loader::<ContactLoader, ContactId>().load_one(ContactId(id)).await?.map(Contact))
    }
    async fn company(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Company>> {
        let Some(company_id) = self.0.company_id else {
            return Ok(None);
        };
        let caller = Caller::of(ctx)?;
        let company = caller.loader::<CompanyLoader, CompanyId>().load_one(CompanyId(company_id)).await?;
        Ok(company.map(Company))
    }
    /// Other live contacts that look like this one, best match first.
    pub async fn duplicates(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<DuplicateCandidate>> {
        let caller = Caller::of(ctx)?;
        let tx = caller.tx().await?;
        let found = find_duplicates(&tx, &self.0).await?;
        tx.commit().await?;
        Ok(found
            .into_iter()
            .map(|d| DuplicateCandidate { contact: Contact(d.contact), score: d.score, signals: d.signals })
            .collect())
    }
}

/// A contact that may be the same person, with why.
#[derive(SimpleObject)]
pub struct DuplicateCandidate {
    pub contact: Contact,
    /// 0 to 1; an email in common alone scores 0.7.
    pub score: f64,
    pub signals: Vec<DuplicateSignal>,
}

/// An organization the tenant's contacts work for.
pub struct Company(pub company::Model);

#[Object]
impl Company {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Lowercase host name, unique among live companies.
    async fn domain(&self) -> Option<&str> {
        self.0.domain.as_deref()
    }
    async fn industry(&self) -> Option<&str> {
        self.0.industry.as_deref()
    }
    /// Number of employees.
    async fn size(&self) -> Option<i32> {
        self.0.size
    }
    async fn website(&self) -> Option<&str> {
        self.0.website.as_deref()
    }
    async fn address(&self) -> Option<Address> {
        address(self.0.address.as_ref())
    }
    async fn custom_fields(&self) -> Json<serde_json::Value> {
        Json(self.0.custom_fields.clone())
    }
    async fn owner(&self) -> Option<UserRef> {
        UserRef::of(self.0.owner_id)
    }
    async fn created_by(&self) -> Option<UserRef> {
        UserRef::of(self.0.created_by)
    }
    async fn updated_by(&self) -> Option<UserRef> {
        UserRef::of(self.0.updated_by)
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    async fn deleted_at(&self) -> Option<DateTime<Utc>> {
        self.0.deleted_at
    }
    async fn parent(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Company>> {
        let Some(parent) = self.0.parent_id else { return Ok(None) };
        let caller = Caller::of(ctx)?;
        Ok(caller.loader::<CompanyLoader, CompanyId>().load_one(CompanyId(parent)).await?.map(Company))
    }
    /// Live companies whose parent this is, newest first.
    async fn children(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Company>> {
        let caller = Caller::of(ctx)?;
        let query = CompanyQuery { parent: Some(CompanyId(self.0.id)), first: 100, ..Default::default() };
        let tx = caller.tx().await?;
        let page = list_companies(&tx, &query).await?;
        tx.commit().await?;
        Ok(page.rows.into_iter().map(|(row, _)| Company(row)).collect())
    }
    /// The parent, the parent's parent… up to the top, nearest first.
    async fn ancestors(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Company>> {
        let caller = Caller::of(ctx)?;
        let tx = caller.tx().await?;
        let ids = ancestor_ids(&*tx, CompanyId(self.0.id)).await?;
        tx.commit().await?;
        let found = caller.loader::<CompanyLoader, CompanyId>().load_many(ids.iter().copied()).await?;
        Ok(ids.iter().filter_map(|id| found.get(id).cloned()).map(Company).collect())
    }
    /// This company's live contacts, newest first unless filtered and sorted otherwise.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn contacts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<ContactFilter>,
    ) -> async_graphql::Result<ContactConnection> {
        let query = ContactQuery {
            filter,
            first: page_size(first)?,
            after,
            company: Some(CompanyId(self.0.id)),
            ..Default::default()
        };
        ContactConnection::load(ctx, query).await
    }
}

/// Page sizes 1 to 100, 20 by default.
pub fn page_size(first: Option<i32>) -> Result<u64, ApiError> {
    crm_platform::pagination::PageRequest::parse(first, None).map(|page| page.size)
}

crm_platform::counted_connection!(
    /// A page of contacts.
    ContactConnection,
    ContactEdge,
    Contact,
    ContactQuery,
    list_contacts,
    count_contacts
);
crm_platform::counted_connection!(
    /// A page of companies.
    CompanyConnection,
    CompanyEdge,
    Company,
    CompanyQuery,
    list_companies,
    count_companies
);

/// A field an organization added to its contacts, companies or deals.
pub struct CustomFieldDefinition(pub definition::Model);

#[Object]
impl CustomFieldDefinition {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    async fn object(&self) -> CustomFieldObject {
        self.0.object
    }
    /// The key values are stored and filtered under (`customFields.{key}`).
    async fn key(&self) -> &str {
        &self.0.key
    }
    async fn label(&self) -> &str {
        &self.0.label
    }
    #[graphql(name = "type")]
    async fn field_type(&self) -> CustomFieldType {
        self.0.field_type
    }
    async fn required(&self) -> bool {
        self.0.required
    }
    async fn unique(&self) -> bool {
        self.0.is_unique
    }
    async fn options(&self) -> Vec<FieldOption> {
        options(&self.0)
    }
    async fn position(&self) -> i32 {
        self.0.position
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}
