use async_graphql::{Context, Enum, ID, InputObject, Json, Object, SimpleObject};
use crm_entities::custom_fields::FieldOption;
use crm_entities::ids::{CompanyId, ContactId};
use crm_entities::tenant::custom_field_definition::{CustomFieldObject, CustomFieldType};
use crm_platform::{ApiError, Caller, Role};
use uuid::Uuid;

use super::inputs::{CreateCompanyInput, CreateContactInput, UpdateCompanyInput, UpdateContactInput};
use super::transfers::{ContactExport, ContactImport, CreateContactImportInput};
use super::types::{Company, Contact, CustomFieldDefinition};
use crate::companies::{self, create_company, restore_company, trash_company, update_company};
use crate::contacts::list::{ContactQuery, list_contacts};
use crate::contacts::merge::merge_contacts;
use crate::contacts::{self, create_contact, forget, restore_contact, trash_contact, update_contact};
use crate::exports;
use crate::fields::{self, Changed, FieldChange, NewField};
use crate::filters::ContactFilter;
use crate::imports::{NewImport, create_import};
use crate::tokens::{self, Purpose};
use crate::upsert::{ContactMatch, upsert_contact};
use crm_entities::tenant::contact_import::Dedupe;
use crm_platform::Services;

/// The most contacts one `createContacts` call takes.
pub const MAX_BATCH: usize = 100;

/// One item of a batch: the contact, or why it was not created.
#[derive(SimpleObject)]
pub struct ContactResult {
    /// Position in the `inputs` list.
    pub index: i32,
    pub contact: Option<Contact>,
    pub error: Option<ItemError>,
}

/// A refused item, coded like a GraphQL error.
#[derive(SimpleObject)]
pub struct ItemError {
    pub code: String,
    pub message: String,
    pub field: Option<String>,
}

impl From<ApiError> for ItemError {
    fn from(err: ApiError) -> Self {
        let field = match &err {
            ApiError::BadInput { field, .. } => Some(field.to_string()),
            _ => None,
        };
        Self { code: err.code().to_owned(), message: err.message(), field }
    }
}

#[derive(SimpleObject)]
pub struct UpsertContactPayload {
    pub contact: Contact,
    /// True when no contact matched and this one was created.
    pub created: bool,
}

#[derive(SimpleObject)]
pub struct MergeContactsPayload {
    /// The primary contact after the merge (in a dry run: as it would be).
    pub contact: Contact,
    pub merged_ids: Vec<ID>,
    /// Changed fields of the primary, each `{previous, new}`.
    pub changes: Json<serde_json::Value>,
    pub dry_run: bool,
}

#[derive(InputObject)]
pub struct CreateCustomFieldInput {
    pub object: CustomFieldObject,
    /// Lowercase letters, digits and `_`, starting with a letter; fixed once created.
    pub key: String,
    pub label: String,
    #[graphql(name = "type")]
    pub field_type: CustomFieldType,
    #[graphql(default)]
    pub required: bool,
    #[graphql(default)]
    pub unique: bool,
    /// For SELECT and MULTI_SELECT.
    pub options: Option<Vec<FieldOption>>,
    pub position: Option<i32>,
}

#[derive(InputObject)]
pub struct UpdateCustomFieldInput {
    pub label: Option<String>,
    /// Converts every stored value, or is refused with how many would not convert.
    #[graphql(name = "type")]
    pub field_type: Option<CustomFieldType>,
    pub required: Option<bool>,
    pub unique: Option<bool>,
    /// The full new list; removing an option in use is refused with the count of values.
    pub options: Option<Vec<FieldOption>>,
    pub position: Option<i32>,
}

/// What decides that an upserted contact already exists.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug, Default)]
#[graphql(name = "ContactMatch")]
pub enum ContactMatchInput {
    /// Any of the contact's emails.
    #[default]
    Email,
    /// Any of the contact's phone numbers, by digits.
    Phone,
}

pub struct MutationRoot;

#[Object(name = "Mutation")]
impl MutationRoot {
    async fn create_contact(
        &self,
        ctx: &Context<'_>,
        input: CreateContactInput,
    ) -> async_graphql::Result<Contact> {
        let caller = Caller::of(ctx)?;
        let patch = input.parse()?;
        let tx = caller.write_tx().await?;
        let defs = contacts::definitions(&*tx).await?;
        let contact = create_contact(&tx, &defs, caller.user(), patch).await?;
        tx.commit().await?;
        Ok(Contact(contact))
    }

    /// Creates up to 100 contacts in one transaction; an item that is refused does not stop the
    /// others, and its result carries the error.
    async fn create_contacts(
        &self,
        ctx: &Context<'_>,
        inputs: Vec<CreateContactInput>,
    ) -> async_graphql::Result<Vec<ContactResult>> {
        let caller = Caller::of(ctx)?;
        if inputs.len() > MAX_BATCH {
            return Err(
                ApiError::bad_input("inputs", format!("inputs allows at most {MAX_BATCH} contacts")).into()
            );
        }
        let tx = caller.write_tx().await?;
        let defs = contacts::definitions(&*tx).await?;
        let mut results = Vec::with_capacity(inputs.len());
        for (index, input) in inputs.into_iter().enumerate() {
            // Every check runs before the insert, so a refused item has written nothing.
            let outcome = match input.parse() {
                Ok(patch) => create_contact(&tx, &defs, caller.user(), patch).await,
                Err(err) => Err(err),
            };
            let index = index as i32;
            match outcome {
                Ok(row) => results.push(ContactResult { index, contact: Some(Contact(row)), error: None }),
                Err(err @ ApiError::Internal(_)) => return Err(err.into()),
                Err(err) => results.push(ContactResult { index, contact: None, error: Some(err.into()) }),
            }
        }
        tx.commit().await?;
        Ok(results)
    }

    /// Updates the contact that matches `input` on `matchOn` (the oldest, when several do) with
    /// the fields `input` gives, or creates it.
    async fn upsert_contact(
        &self,
        ctx: &Context<'_>,
        input: CreateContactInput,
        #[graphql(default)] match_on: ContactMatchInput,
    ) -> async_graphql::Result<UpsertContactPayload> {
        let caller = Caller::of(ctx)?;
        let match_on = match match_on {
            ContactMatchInput::Email => ContactMatch::Email,
            ContactMatchInput::Phone => ContactMatch::Phone,
        };
        let tx = caller.write_tx().await?;
        let defs = contacts::definitions(&*tx).await?;
        let (create, update) = (input.clone().parse()?, input.parse_as_update()?);
        let (row, created) = upsert_contact(&tx, &defs, caller.user(), create, update, match_on).await?;
        tx.commit().await?;
        forget(caller, &[ContactId(row.id)]).await;
        Ok(UpsertContactPayload { contact: Contact(row), created })
    }

    /// Changes the fields given; `null` clears a field, an omitted one keeps its value.
    async fn update_contact(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateContactInput,
    ) -> async_graphql::Result<Contact> {
        let caller = Caller::of(ctx)?;
        let id = ContactId::parse(&id, "id")?;
        let patch = input.parse()?;
        let tx = caller.write_tx().await?;
        let defs = contacts::definitions(&*tx).await?;
        let contact = update_contact(&tx, &defs, caller.user(), id, patch).await?;
        tx.commit().await?;
        forget(caller, &[id]).await;
        Ok(Contact(contact))
    }

    /// Moves a contact to the trash, from where `restoreContact` brings it back.
    async fn delete_contact(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Contact> {
        let caller = Caller::of(ctx)?;
        let id = ContactId::parse(&id, "id")?;
        let tx = caller.write_tx().await?;
        let contact = trash_contact(&tx, caller.user(), id).await?;
        tx.commit().await?;
        forget(caller, &[id]).await;
        Ok(Contact(contact))
    }

    async fn restore_contact(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Contact> {
        let caller = Caller::of(ctx)?;
        let id = ContactId::parse(&id, "id")?;
        let tx = caller.write_tx().await?;
        let contact = restore_contact(&tx, caller.user(), id).await?;
        tx.commit().await?;
        forget(caller, &[id]).await;
        Ok(Contact(contact))
    }

    /// Merges `otherIds` into `primaryId`: the primary keeps its values and fills its gaps from
    /// the others; they go to the trash, and their deals and activities move to the primary.
    async fn merge_contacts(
        &self,
        ctx: &Context<'_>,
        primary_id: ID,
        other_ids: Vec<ID>,
        #[graphql(default_with = "Some(false)")] dry_run: Option<bool>,
    ) -> async_graphql::Result<MergeContactsPayload> {
        let caller = Caller::of(ctx)?;
        let dry_run = dry_run.unwrap_or(false);
        let primary = ContactId::parse(&primary_id, "primaryId")?;
        let others =
            other_ids.iter().map(|id| ContactId::parse(id, "otherIds")).collect::<Result<Vec<_>, _>>()?;
        let tx = caller.write_tx().await?;
        let merge = merge_contacts(&tx, caller.user(), primary, &others, dry_run).await?;
        tx.commit().await?;
        if !dry_run {
            let touched: Vec<ContactId> = others.iter().copied().chain([primary]).collect();
            forget(caller, &touched).await;
        }
        Ok(MergeContactsPayload {
            contact: Contact(merge.primary),
            merged_ids: merge.merged.into_iter().map(ID::from).collect(),
            changes: Json(serde_json::to_value(merge.changes)?),
            dry_run,
        })
    }

    async fn create_company(
        &self,
        ctx: &Context<'_>,
        input: CreateCompanyInput,
    ) -> async_graphql::Result<Company> {
        let caller = Caller::of(ctx)?;
        let patch = input.parse()?;
        let tx = caller.write_tx().await?;
        let defs = companies::definitions(&*tx).await?;
        let company = create_company(&tx, &defs, caller.user(), patch).await?;
        tx.commit().await?;
        Ok(Company(company))
    }

    async fn update_company(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateCompanyInput,
    ) -> async_graphql::Result<Company> {
        let caller = Caller::of(ctx)?;
        let id = CompanyId::parse(&id, "id")?;
        let patch = input.parse()?;
        let tx = caller.write_tx().await?;
        let defs = companies::definitions(&*tx).await?;
        let company = update_company(&tx, &defs, caller.user(), id, patch).await?;
        tx.commit().await?;
        Ok(Company(company))
    }

    async fn delete_company(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Company> {
        let caller = Caller::of(ctx)?;
        let id = CompanyId::parse(&id, "id")?;
        let tx = caller.write_tx().await?;
        let company = trash_company(&tx, caller.user(), id).await?;
        tx.commit().await?;
        Ok(Company(company))
    }

    async fn restore_company(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Company> {
        let caller = Caller::of(ctx)?;
        let id = CompanyId::parse(&id, "id")?;
        let tx = caller.write_tx().await?;
        let company = restore_company(&tx, caller.user(), id).await?;
        tx.commit().await?;
        Ok(Company(company))
    }

    /// Starts a CSV import: returns its upload link; the import runs once the file is uploaded.
    async fn create_contact_import(
        &self,
        ctx: &Context<'_>,
        input: CreateContactImportInput,
    ) -> async_graphql::Result<ContactImport> {
        let caller = Caller::of(ctx)?;
        let mapping = match input.mapping.map(|json| json.0) {
            None | Some(serde_json::Value::Null) => serde_json::Map::new(),
            Some(serde_json::Value::Object(mapping)) => mapping,
            Some(_) => return Err(ApiError::bad_input("mapping", "mapping must be a JSON object").into()),
        };
        let new = NewImport {
            file_name: input.file_name,
            mapping,
            dedupe: input.dedupe.unwrap_or(Dedupe::Skip),
            dry_run: input.dry_run.unwrap_or(false),
        };
        let tx = caller.write_tx().await?;
        let created = create_import(&tx, caller.user(), new).await?;
        tx.commit().await?;
        let services = Services::of(ctx)?;
        let url = format!("{}/files/imports/{}", services.config.files_base_url, created.upload_token);
        Ok(ContactImport { model: created.import, upload: Some((url, created.upload_expires_at)) })
    }

    /// A CSV of the contacts `filter` selects (all live ones by default) with `columns` (all
    /// fields and custom fields by default); returns its download link.
    async fn export_contacts(
        &self,
        ctx: &Context<'_>,
        filter: Option<ContactFilter>,
        columns: Option<Vec<String>>,
    ) -> async_graphql::Result<ContactExport> {
        let caller = Caller::of(ctx)?;
        let tx = caller.tx().await?;
        let defs = contacts::definitions(&*tx).await?;
        let columns = exports::check_columns(columns, &defs)?;
        // The filter is checked now, so a bad one fails here and not halfway through the file.
        let probe = ContactQuery { filter: filter.clone(), first: 1, ..Default::default() };
        list_contacts(&tx, &probe).await?;
        let id = exports::create_export(&tx, caller.user().0, filter.as_ref(), &columns).await?;
        let (token, expires_at) = tokens::issue(&*tx, caller.tenant(), Purpose::ExportDownload, id).await?;
        tx.commit().await?;
        let services = Services::of(ctx)?;
        let download_url = format!("{}/files/exports/{token}", services.config.files_base_url);
        Ok(ContactExport { id: id.into(), download_url, expires_at, columns })
    }

    /// Adds a custom field (admins). Values records already hold under the key are converted to
    /// its type, or the field is refused with how many would not convert.
    async fn create_custom_field(
        &self,
        ctx: &Context<'_>,
        input: CreateCustomFieldInput,
    ) -> async_graphql::Result<CustomFieldDefinition> {
        let caller = Caller::of(ctx)?;
        caller.require(Role::Admin)?;
        let new = NewField {
            object: input.object,
            key: input.key,
            label: input.label,
            field_type: input.field_type,
            required: input.required,
            unique: input.unique,
            options: input.options.unwrap_or_default(),
            position: input.position,
        };
        let tx = caller.write_tx().await?;
        let changed = fields::create_field(&tx, new).await?;
        tx.commit().await?;
        Ok(forget_rewritten(caller, changed).await)
    }

    async fn update_custom_field(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateCustomFieldInput,
    ) -> async_graphql::Result<CustomFieldDefinition> {
        let caller = Caller::of(ctx)?;
        caller.require(Role::Admin)?;
        let id = field_id(&id)?;
        let change = FieldChange {
            label: input.label,
            field_type: input.field_type,
            required: input.required,
            unique: input.unique,
            options: input.options,
            position: input.position,
        };
        let tx = caller.write_tx().await?;
        let changed = fields::update_field(&tx, id, change).await?;
        tx.commit().await?;
        Ok(forget_rewritten(caller, changed).await)
    }

    /// Deletes a custom field and its values from every record.
    async fn delete_custom_field(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<CustomFieldDefinition> {
        let caller = Caller::of(ctx)?;
        caller.require(Role::Admin)?;
        let id = field_id(&id)?;
        let tx = caller.write_tx().await?;
        let changed = fields::delete_field(&tx, id).await?;
        tx.commit().await?;
        Ok(forget_rewritten(caller, changed).await)
    }
}

/// Drops contacts whose values a definition change rewrote from the cache.
async fn forget_rewritten(caller: &Caller, changed: Changed) -> CustomFieldDefinition {
    if changed.definition.object == CustomFieldObject::Contact {
        let ids: Vec<ContactId> = changed.rewritten.into_iter().map(ContactId).collect();
        forget(caller, &ids).await;
    }
    CustomFieldDefinition(changed.definition)
}

fn field_id(id: &ID) -> Result<Uuid, ApiError> {
    crm_platform::ids::parse_uuid(id, "id", "custom field")
}
