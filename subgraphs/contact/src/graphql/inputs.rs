//! Inputs of contact and company writes, parsed into domain patches. In update inputs an omitted
//! field keeps its value and `null` clears it.

use async_graphql::{ID, InputObject, Json, MaybeUndefined};
use crm_entities::ids::CompanyId;
use crm_entities::tenant::contact::LifecycleStage;
use crm_platform::ids::UserId;
use crm_platform::patch::{self, change, required_change};
use crm_platform::text::{self, EmailAddress};
use crm_platform::{ApiError, ApiResult};
use serde_json::Value;

use crate::companies::{CompanyPatch, normalize_domain};
use crate::contacts::ContactPatch;
use crate::records::{phone, tags};

const MAX_LIST: usize = 20;

#[derive(InputObject, Clone, Debug, Default)]
pub struct AddressInput {
    pub street: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

impl AddressInput {
    fn parse(&self) -> ApiResult<Option<Value>> {
        let parts = [
            ("street", &self.street, "address.street"),
            ("city", &self.city, "address.city"),
            ("region", &self.region, "address.region"),
            ("postalCode", &self.postal_code, "address.postalCode"),
            ("country", &self.country, "address.country"),
        ];
        let mut object = serde_json::Map::new();
        for (key, value, field) in parts {
            if let Some(value) = text::optional(field, value.as_deref(), 200)? {
                object.insert(key.to_owned(), Value::String(value));
            }
        }
        Ok((!object.is_empty()).then_some(Value::Object(object)))
    }
}

#[derive(InputObject, Clone, Debug, Default)]
pub struct CreateContactInput {
    pub first_name: String,
    pub last_name: Option<String>,
    /// The primary email.
    pub email: Option<String>,
    pub additional_emails: Option<Vec<String>>,
    /// The primary phone.
    pub phone: Option<String>,
    pub additional_phones: Option<Vec<String>>,
    pub job_title: Option<String>,
    pub company_id: Option<ID>,
    /// A member of the organization.
    pub owner_id: Option<ID>,
    pub tags: Option<Vec<String>>,
    pub lifecycle_stage: Option<LifecycleStage>,
    pub source: Option<String>,
    pub address: Option<AddressInput>,
    pub notes: Option<String>,
    /// Values of the organization's contact custom fields, by key.
    pub custom_fields: Option<Json<Value>>,
}

#[derive(InputObject, Clone, Debug, Default)]
pub struct UpdateContactInput {
    pub first_name: MaybeUndefined<String>,
    pub last_name: MaybeUndefined<String>,
    pub email: MaybeUndefined<String>,
    pub additional_emails: MaybeUndefined<Vec<String>>,
    pub phone: MaybeUndefined<String>,
    pub additional_phones: MaybeUndefined<Vec<String>>,
    pub job_title: MaybeUndefined<String>,
    pub company_id: MaybeUndefined<ID>,
    pub owner_id: MaybeUndefined<ID>,
    pub tags: MaybeUndefined<Vec<String>>,
    pub lifecycle_stage: MaybeUndefined<LifecycleStage>,
    pub source: MaybeUndefined<String>,
    pub address: MaybeUndefined<AddressInput>,
    pub notes: MaybeUndefined<String>,
    /// Only the keys given change; a key set to null is cleared.
    pub custom_fields: MaybeUndefined<Json<Value>>,
}

fn email(field: &'static str, raw: &str) -> ApiResult<Option<String>> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    Ok(Some(EmailAddress::parse(field, raw)?.into_string()))
}

fn emails(field: &'static str, raw: &[String]) -> ApiResult<Vec<String>> {
    if raw.len() > MAX_LIST {
        return Err(ApiError::bad_input(field, format!("{field} allows at most {MAX_LIST} entries")));
    }
    let mut out: Vec<String> = Vec::new();
    for item in raw {
        if let Some(email) = email(field, item)?
            && !out.contains(&email)
        {
            out.push(email);
        }
    }
    Ok(out)
}

fn phones(field: &'static str, raw: &[String]) -> ApiResult<Vec<String>> {
    if raw.len() > MAX_LIST {
        return Err(ApiError::bad_input(field, format!("{field} allows at most {MAX_LIST} entries")));
    }
    let mut out: Vec<String> = Vec::new();
    for item in raw {
        if let Some(phone) = phone(field, item)?
            && !out.contains(&phone)
        {
            out.push(phone);
        }
    }
    Ok(out)
}

fn owner(id: &ID) -> ApiResult<UserId> {
    UserId::parse(id, "ownerId")
}

impl CreateContactInput {
    pub fn parse(self) -> ApiResult<ContactPatch> {
        Ok(ContactPatch {
            first_name: Some(text::required("firstName", &self.first_name, 100)?),
            last_name: Some(text::optional("lastName", self.last_name.as_deref(), 100)?.unwrap_or_default()),
            email: Some(self.email.as_deref().map(|e| email("email", e)).transpose()?.flatten()),
            additional_emails: Some(emails(
                "additionalEmails",
                self.additional_emails.as_deref().unwrap_or_default(),
            )?),
            phone: Some(self.phone.as_deref().map(|p| phone("phone", p)).transpose()?.flatten()),
            additional_phones: Some(phones(
                "additionalPhones",
                self.additional_phones.as_deref().unwrap_or_default(),
            )?),
            job_title: Some(text::optional("jobTitle", self.job_title.as_deref(), 200)?),
            company: Some(self.company_id.as_ref().map(|id| CompanyId::parse(id, "companyId")).transpose()?),
            owner: Some(self.owner_id.as_ref().map(owner).transpose()?),
            tags: Some(tags(self.tags.as_deref().unwrap_or_default())?),
            lifecycle_stage: self.lifecycle_stage,
            source: Some(text::optional("source", self.source.as_deref(), 200)?),
            address: Some(self.address.as_ref().map(AddressInput::parse).transpose()?.flatten()),
            notes: Some(text::optional("notes", self.notes.as_deref(), 20_000)?),
            custom_fields: self.custom_fields.map(patch::custom_fields).transpose()?,
        })
    }
}

/// `Some` → set, `None` → keep.
fn given<T>(value: Option<T>) -> MaybeUndefined<T> {
    value.map_or(MaybeUndefined::Undefined, MaybeUndefined::Value)
}

impl CreateContactInput {
    /// The input as a change to an existing contact: only the fields it gives.
    pub fn parse_as_update(self) -> ApiResult<ContactPatch> {
        UpdateContactInput {
            first_name: MaybeUndefined::Value(self.first_name),
            last_name: given(self.last_name),
            email: given(self.email),
            additional_emails: given(self.additional_emails),
            phone: given(self.phone),
            additional_phones: given(self.additional_phones),
            job_title: given(self.job_title),
            company_id: given(self.company_id),
            owner_id: given(self.owner_id),
            tags: given(self.tags),
            lifecycle_stage: given(self.lifecycle_stage),
            source: given(self.source),
            address: given(self.address),
            notes: given(self.notes),
            custom_fields: given(self.custom_fields),
        }
        .parse()
    }
}

impl UpdateContactInput {
    pub fn parse(self) -> ApiResult<ContactPatch> {
        Ok(ContactPatch {
            first_name: required_change("firstName", self.first_name, |v| {
                text::required("firstName", &v, 100)
            })?,
            last_name: change(self.last_name, |v| text::optional("lastName", Some(&v), 100))?
                .map(Option::unwrap_or_default),
            email: change(self.email, |v| email("email", &v))?,
            additional_emails: change(self.additional_emails, |v| emails("additionalEmails", &v).map(Some))?
                .map(Option::unwrap_or_default),
            phone: change(self.phone, |v| phone("phone", &v))?,
            additional_phones: change(self.additional_phones, |v| phones("additionalPhones", &v).map(Some))?
                .map(Option::unwrap_or_default),
            job_title: change(self.job_title, |v| text::optional("jobTitle", Some(&v), 200))?,
            company: change(self.company_id, |id| CompanyId::parse(&id, "companyId").map(Some))?,
            owner: change(self.owner_id, |id| owner(&id).map(Some))?,
            tags: change(self.tags, |v| tags(&v).map(Some))?.map(Option::unwrap_or_default),
            lifecycle_stage: required_change("lifecycleStage", self.lifecycle_stage, Ok)?,
            source: change(self.source, |v| text::optional("source", Some(&v), 200))?,
            address: change(self.address, |a| a.parse())?,
            notes: change(self.notes, |v| text::optional("notes", Some(&v), 20_000))?,
            custom_fields: required_change("customFields", self.custom_fields, patch::custom_fields)?,
        })
    }
}

#[derive(InputObject, Clone, Debug, Default)]
pub struct CreateCompanyInput {
    pub name: String,
    /// A host name or a URL; stored as the lowercase host without `www.`.
    pub domain: Option<String>,
    pub industry: Option<String>,
    /// Number of employees.
    pub size: Option<i32>,
    pub website: Option<String>,
    pub address: Option<AddressInput>,
    pub owner_id: Option<ID>,
    pub parent_id: Option<ID>,
    pub custom_fields: Option<Json<Value>>,
}

#[derive(InputObject, Clone, Debug, Default)]
pub struct UpdateCompanyInput {
    pub name: MaybeUndefined<String>,
    pub domain: MaybeUndefined<String>,
    pub industry: MaybeUndefined<String>,
    pub size: MaybeUndefined<i32>,
    pub website: MaybeUndefined<String>,
    pub address: MaybeUndefined<AddressInput>,
    pub owner_id: MaybeUndefined<ID>,
    pub parent_id: MaybeUndefined<ID>,
    pub custom_fields: MaybeUndefined<Json<Value>>,
}

pub fn domain(raw: &str) -> ApiResult<Option<String>> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    normalize_domain(raw)
        .map(Some)
        .ok_or_else(|| ApiError::bad_input("domain", "domain is not a host name like example.com"))
}

fn website(raw: &str) -> ApiResult<Option<String>> {
    let Some(value) = text::optional("website", Some(raw), 2048)? else { return Ok(None) };
    let with_scheme = if value.contains("://") { value } else { format!("https://{value}") };
    let valid = (with_scheme.starts_with("https://") || with_scheme.starts_with("http://"))
        && !with_scheme.chars().any(char::is_whitespace)
        && normalize_domain(&with_scheme).is_some();
    if valid {
        Ok(Some(with_scheme))
    } else {
        Err(ApiError::bad_input("website", "website is not an http(s) address"))
    }
}

fn size(value: i32) -> ApiResult<Option<i32>> {
    if value < 0 {
        return Err(ApiError::bad_input("size", "size (employees) cannot be negative"));
    }
    Ok(Some(value))
}

impl CreateCompanyInput {
    pub fn parse(self) -> ApiResult<CompanyPatch> {
        Ok(CompanyPatch {
            name: Some(text::required("name", &self.name, 200)?),
            domain: Some(self.domain.as_deref().map(domain).transpose()?.flatten()),
            industry: Some(text::optional("industry", self.industry.as_deref(), 100)?),
            size: Some(self.size.map(size).transpose()?.flatten()),
            website: Some(self.website.as_deref().map(website).transpose()?.flatten()),
            address: Some(self.address.as_ref().map(AddressInput::parse).transpose()?.flatten()),
            owner: Some(self.owner_id.as_ref().map(owner).transpose()?),
            parent: Some(self.parent_id.as_ref().map(|id| CompanyId::parse(id, "parentId")).transpose()?),
            custom_fields: self.custom_fields.map(patch::custom_fields).transpose()?,
        })
    }
}

impl UpdateCompanyInput {
    pub fn parse(self) -> ApiResult<CompanyPatch> {
        Ok(CompanyPatch {
            name: required_change("name", self.name, |v| text::required("name", &v, 200))?,
            domain: change(self.domain, |v| domain(&v))?,
            industry: change(self.industry, |v| text::optional("industry", Some(&v), 100))?,
            size: change(self.size, size)?,
            website: change(self.website, |v| website(&v))?,
            address: change(self.address, |a| a.parse())?,
            owner: change(self.owner_id, |id| owner(&id).map(Some))?,
            parent: change(self.parent_id, |id| CompanyId::parse(&id, "parentId").map(Some))?,
            custom_fields: required_change("customFields", self.custom_fields, patch::custom_fields)?,
        })
    }
}
