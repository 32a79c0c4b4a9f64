//! From CSV columns to contact fields: the automatic mapping by header (overridable), and one
//! row turned into a contact patch or the reason it cannot be.

use std::collections::BTreeMap;

use crm_entities::custom_fields::{Definitions, field_path, parse_text};
use crm_entities::tenant::contact::LifecycleStage;
use crm_platform::text::{self, EmailAddress};
use crm_platform::{ApiError, ApiResult};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::companies::normalize_domain;
use crate::contacts::ContactPatch;
use crate::records::{phone, tags};

/// What a column holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Target {
    FirstName,
    LastName,
    /// "Ann Lee": the first word is the first name, the rest the last name.
    Name,
    Email,
    AdditionalEmails,
    Phone,
    AdditionalPhones,
    JobTitle,
    /// The company's name; a company by that name is found or created.
    Company,
    /// The company's domain; a company with it is found or created.
    CompanyDomain,
    Tags,
    LifecycleStage,
    Source,
    Notes,
    Street,
    City,
    Region,
    PostalCode,
    Country,
    /// A custom field, by key.
    Custom(String),
}

/// The names a client may map a column to (`mapping` values), besides `custom:{key}`.
const NAMES: [(&str, Target); 19] = [
    ("firstName", Target::FirstName),
    ("lastName", Target::LastName),
    ("name", Target::Name),
    ("email", Target::Email),
    ("additionalEmails", Target::AdditionalEmails),
    ("phone", Target::Phone),
    ("additionalPhones", Target::AdditionalPhones),
    ("jobTitle", Target::JobTitle),
    ("company", Target::Company),
    ("companyDomain", Target::CompanyDomain),
    ("tags", Target::Tags),
    ("lifecycleStage", Target::LifecycleStage),
    ("source", Target::Source),
    ("notes", Target::Notes),
    ("street", Target::Street),
    ("city", Target::City),
    ("region", Target::Region),
    ("postalCode", Target::PostalCode),
    ("country", Target::Country),
];

/// Other spellings headers use for the same fields (compared lowercase, letters and digits only).
const ALIASES: [(&str, &str); 30] = [
    ("first", "firstName"),
    ("givenname", "firstName"),
    ("last", "lastName"),
    ("surname", "lastName"),
    ("familyname", "lastName"),
    ("fullname", "name"),
    ("emailaddress", "email"),
    ("mail", "email"),
    ("primaryemail", "email"),
    ("emails", "additionalEmails"),
    ("otheremails", "additionalEmails"),
    ("phonenumber", "phone"),
    ("mobile", "phone"),
    ("telephone", "phone"),
    ("tel", "phone"),
    ("phones", "additionalPhones"),
    ("otherphones", "additionalPhones"),
    ("title", "jobTitle"),
    ("position", "jobTitle"),
    ("companyname", "company"),
    ("organization", "company"),
    ("organisation", "company"),
    ("domain", "companyDomain"),
    ("labels", "tags"),
    ("stage", "lifecycleStage"),
    ("leadsource", "source"),
    ("note", "notes"),
    ("state", "region"),
    ("zip", "postalCode"),
    ("postcode", "postalCode"),
];

fn squash(header: &str) -> String {
    header.chars().filter(char::is_ascii_alphanumeric).flat_map(char::to_lowercase).collect()
}

/// A target by the name clients use in `mapping` (`firstName`, `custom:budget`).
pub fn target_named(name: &str, defs: &Definitions) -> Option<Target> {
    if let Some(key) = name.strip_prefix("custom:").or_else(|| name.strip_prefix("customFields.")) {
        return defs.find(key).map(|def| Target::Custom(def.key.clone()));
    }
    NAMES.iter().find(|(n, _)| *n == name).map(|(_, t)| t.clone())
}

/// The target a header names by itself: a field name or alias, or a custom field's key or label.
fn automatic(header: &str, defs: &Definitions) -> Option<Target> {
    let squashed = squash(header);
    if squashed.is_empty() {
        return None;
    }
    if let Some((_, target)) = NAMES.iter().find(|(name, _)| squash(name) == squashed) {
        return Some(target.clone());
    }
    if let Some((_, name)) = ALIASES.iter().find(|(alias, _)| *alias == squashed) {
        return target_named(name, defs);
    }
    let custom = squashed
        .strip_prefix("customfields")
        .or_else(|| squashed.strip_prefix("custom"))
        .unwrap_or(&squashed);
    defs.fields
        .iter()
        .find(|def| squash(&def.key) == custom || squash(&def.label) == custom)
        .map(|def| Target::Custom(def.key.clone()))
}

/// Checks a client's mapping (header → field name, or null to ignore the column).
pub fn check_mapping(mapping: &Map<String, Value>, defs: &Definitions) -> ApiResult<()> {
    for (header, target) in mapping {
        match target {
            Value::Null => {}
            Value::String(name) if target_named(name, defs).is_some() => {}
            _ => {
                return Err(ApiError::bad_input(
                    "mapping",
                    format!(
                        "mapping of {header:?} must be a field name (firstName, email, custom:key…) or null"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Each column's target (None: ignored), or why the header cannot be imported.
pub fn resolve(
    headers: &[String],
    mapping: &Map<String, Value>,
    defs: &Definitions,
) -> Result<Vec<Option<Target>>, String> {
    let mut columns = Vec::with_capacity(headers.len());
    let mut taken: BTreeMap<String, &str> = BTreeMap::new();
    for header in headers {
        let target = match mapping.get(header) {
            Some(Value::String(name)) => target_named(name, defs),
            Some(_) => None,
            None => automatic(header, defs),
        };
        if let Some(target) = &target {
            let name = serde_json::to_string(target).unwrap_or_default();
            if let Some(first) = taken.insert(name, header) {
                return Err(format!("columns {first:?} and {header:?} both map to the same field"));
            }
        }
        columns.push(target);
    }
    let named = columns.iter().flatten().any(|t| matches!(t, Target::FirstName | Target::Name));
    if !named {
        return Err(
            "no column holds the first name (a header like \"First name\" or \"Name\", or a mapping)"
                .to_owned(),
        );
    }
    Ok(columns)
}

/// A company a row names, by name and/or domain.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CompanyRef {
    pub name: Option<String>,
    pub domain: Option<String>,
}

/// One row, ready for the database: its patch and company.
pub struct Row {
    pub line: i64,
    pub patch: ContactPatch,
    pub company: Option<CompanyRef>,
}

/// A row that was not taken: its line, the column at fault (if one) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub line: i64,
    pub column: Option<String>,
    pub reason: String,
}

/// Undoes the `'` an export put before a cell a spreadsheet would have run as a formula.
fn unneutralise(value: &str) -> &str {
    match value.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest,
        _ => value,
    }
}

fn split_list(value: &str) -> Vec<String> {
    value.split([';', '|', ',']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// Parses one record's fields (`cells`, as read) against the columns.
pub fn parse_row(
    line: i64,
    cells: &[&[u8]],
    headers: &[String],
    columns: &[Option<Target>],
    defs: &Definitions,
) -> Result<Row, RowError> {
    let refuse =
        |column: Option<&str>, reason: String| RowError { line, column: column.map(str::to_owned), reason };
    if cells.len() != columns.len() {
        return Err(refuse(None, format!("expected {} columns, found {}", columns.len(), cells.len())));
    }
    if cells.iter().all(|cell| cell.iter().all(u8::is_ascii_whitespace)) {
        return Err(refuse(None, "the row is empty".to_owned()));
    }
    let mut patch = ContactPatch::default();
    let mut company = CompanyRef::default();
    let mut address = Map::new();
    let mut custom = Map::new();
    for ((cell, target), header) in cells.iter().zip(columns).zip(headers) {
        let Some(target) = target else { continue };
        let Ok(value) = std::str::from_utf8(cell) else {
            return Err(refuse(Some(header), "not valid UTF-8".to_owned()));
        };
        let value = unneutralise(value.trim());
        if value.is_empty() {
            continue;
        }
        let bad = |err: ApiError| refuse(Some(header), err.message());
        match target {
            Target::FirstName => patch.first_name = Some(text::required(header, value, 100).map_err(bad)?),
            Target::LastName => {
                patch.last_name =
                    Some(text::optional(header, Some(value), 100).map_err(bad)?.unwrap_or_default())
            }
            Target::Name => {
                let (first, last) = value.split_once(char::is_whitespace).unwrap_or((value, ""));
                patch.first_name = Some(text::required(header, first, 100).map_err(bad)?);
                patch.last_name =
                    Some(text::optional(header, Some(last), 100).map_err(bad)?.unwrap_or_default());
            }
            Target::Email => {
                patch.email = Some(Some(EmailAddress::parse(header, value).map_err(bad)?.into_string()))
            }
            Target::AdditionalEmails => {
                let emails = split_list(value)
                    .iter()
                    .map(|e| EmailAddress::parse(header, e).map(EmailAddress::into_string))
                    .collect::<ApiResult<Vec<_>>>()
                    .map_err(bad)?;
                patch.additional_emails = Some(emails);
            }
            Target::Phone => patch.phone = Some(phone("phone", value).map_err(bad)?),
            Target::AdditionalPhones => {
                let phones = split_list(value)
                    .iter()
                    .map(|p| phone("additionalPhones", p))
                    .collect::<ApiResult<Vec<_>>>()
                    .map_err(bad)?;
                patch.additional_phones = Some(phones.into_iter().flatten().collect());
            }
            Target::JobTitle => {
                patch.job_title = Some(text::optional(header, Some(value), 200).map_err(bad)?)
            }
            Target::Company => company.name = text::optional(header, Some(value), 200).map_err(bad)?,
            Target::CompanyDomain => {
                company.domain = Some(
                    normalize_domain(value)
                        .ok_or_else(|| refuse(Some(header), format!("{value:?} is not a domain")))?,
                );
            }
            Target::Tags => patch.tags = Some(tags(&split_list(value)).map_err(bad)?),
            Target::LifecycleStage => {
                let stage = match value.to_lowercase().as_str() {
                    "lead" => LifecycleStage::Lead,
                    "prospect" => LifecycleStage::Prospect,
                    "customer" => LifecycleStage::Customer,
                    "churned" => LifecycleStage::Churned,
                    "other" => LifecycleStage::Other,
                    _ => {
                        return Err(refuse(
                            Some(header),
                            format!(
                                "{value:?} is not a lifecycle stage (lead, prospect, customer, churned, other)"
                            ),
                        ));
                    }
                };
                patch.lifecycle_stage = Some(stage);
            }
            Target::Source => patch.source = Some(text::optional(header, Some(value), 200).map_err(bad)?),
            Target::Notes => patch.notes = Some(text::optional(header, Some(value), 20_000).map_err(bad)?),
            Target::Street | Target::City | Target::Region | Target::PostalCode | Target::Country => {
                let key = serde_json::to_value(target)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                let part = text::optional(header, Some(value), 200).map_err(bad)?;
                address.insert(key, Value::from(part));
            }
            Target::Custom(key) => {
                let Some(def) = defs.find(key) else { continue };
                let stored = parse_text(def, value).map_err(|reason| refuse(Some(header), reason))?;
                custom.insert(key.clone(), stored);
            }
        }
    }
    if patch.first_name.is_none() {
        return Err(refuse(None, "the first name is empty".to_owned()));
    }
    if !address.is_empty() {
        patch.address = Some(Some(Value::Object(address)));
    }
    // Required custom fields must be present on a new contact; whether this row creates one is
    // known later, so the check runs here for every row.
    for def in defs.fields.iter().filter(|def| def.required) {
        if !custom.contains_key(&def.key) {
            return Err(refuse(Some(&field_path(&def.key)), format!("{} is required", def.label)));
        }
    }
    if !custom.is_empty() {
        patch.custom_fields = Some(Value::Object(custom));
    }
    let company = (company.name.is_some() || company.domain.is_some()).then_some(company);
    Ok(Row { line, patch, company })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crm_entities::tenant::custom_field_definition::CustomFieldObject;

    fn no_fields() -> Definitions {
        Definitions { object: CustomFieldObject::Contact, fields: Vec::new() }
    }

    #[test]
    fn headers_map_by_name_alias_or_override() {
        let headers: Vec<String> = ["First Name", "SURNAME", "E-mail Address", "Company", "Favourite colour"]
            .map(String::from)
            .to_vec();
        let columns = resolve(&headers, &Map::new(), &no_fields()).expect("mapped");
        assert_eq!(
            columns,
            [
                Some(Target::FirstName),
                Some(Target::LastName),
                Some(Target::Email),
                Some(Target::Company),
                None
            ]
        );
        let mut mapping = Map::new();
        mapping.insert("Favourite colour".into(), Value::from("notes"));
        mapping.insert("Company".into(), Value::Null);
        let columns = resolve(&headers, &mapping, &no_fields()).expect("mapped");
        assert_eq!(columns[3], None);
        assert_eq!(columns[4], Some(Target::Notes));
        let twice: Vec<String> = ["email", "Email"].map(String::from).to_vec();
        assert!(resolve(&twice, &Map::new(), &no_fields()).is_err());
    }

    #[test]
    fn rows_are_checked_cell_by_cell() {
        let headers: Vec<String> = ["name", "email", "stage"].map(String::from).to_vec();
        let columns = resolve(&headers, &Map::new(), &no_fields()).expect("mapped");
        let row =
            parse_row(2, &[b"Ann Lee", b"ANN@example.com", b"Customer"], &headers, &columns, &no_fields())
                .expect("valid");
        assert_eq!(row.patch.first_name.as_deref(), Some("Ann"));
        assert_eq!(row.patch.email, Some(Some("ann@example.com".to_owned())));
        let bad = parse_row(3, &[b"Bo", b"not-an-email", b""], &headers, &columns, &no_fields())
            .err()
            .expect("bad email");
        assert_eq!((bad.line, bad.column.as_deref()), (3, Some("email")));
        let short = parse_row(4, &[b"Bo"], &headers, &columns, &no_fields()).err().expect("short");
        assert_eq!(short.reason, "expected 3 columns, found 1");
        let garbage =
            parse_row(5, &[b"\xff\xfe", b"", b""], &headers, &columns, &no_fields()).err().expect("binary");
        assert_eq!(garbage.reason, "not valid UTF-8");
    }
}
