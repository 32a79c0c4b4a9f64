//! The organization's saved email templates: each part checked when saved (see `templates`),
//! names unique whatever their case, and a preview rendered with a real contact and deal.

use chrono::Utc;
use crm_entities::ids::{ContactId, DealId, EmailTemplateId};
use crm_entities::tenant::email_template;
use crm_platform::error::violated_constraint;
use crm_platform::ids::UserId;
use crm_platform::sql::Sql;
use crm_platform::{ApiError, ApiResult, TenantTx, text};
use sea_orm::{ActiveModelTrait, DbErr, EntityTrait, FromQueryResult, QueryOrder, Set};

use super::templates::{
    CompanyVars, ContactVars, DealVars, OrganizationVars, Rendered, SenderVars, Source, Variables, check,
    render,
};

/// Templates one organization may keep.
pub const MAX_TEMPLATES: u64 = 500;

/// A template's fields as given; `None` keeps what an update does not name.
#[derive(Default)]
pub struct TemplateFields {
    pub name: Option<String>,
    pub subject: Option<String>,
    pub text: Option<String>,
    /// `Some(None)` removes the HTML body.
    pub html: Option<Option<String>>,
}

pub async fn list(tx: &TenantTx) -> ApiResult<Vec<email_template::Model>> {
    Ok(email_template::Entity::find().order_by_asc(email_template::Column::Name).all(&**tx).await?)
}

pub async fn find(tx: &TenantTx, id: EmailTemplateId) -> ApiResult<email_template::Model> {
    email_template::Entity::find_by_id(id.0).one(&**tx).await?.ok_or(ApiError::NotFound("email template"))
}

pub async fn create(
    tx: &TenantTx,
    actor: UserId,
    fields: TemplateFields,
) -> ApiResult<email_template::Model> {
    use sea_orm::PaginatorTrait;
    if email_template::Entity::find().count(&**tx).await? >= MAX_TEMPLATES {
        return Err(ApiError::bad_input(
            "name",
            format!("an organization keeps at most {MAX_TEMPLATES} templates"),
        ));
    }
    let name = text::required("name", fields.name.as_deref().unwrap_or_default(), 200)?;
    let subject = fields.subject.unwrap_or_default();
    let text_body = fields.text.unwrap_or_default();
    let html_body = fields.html.flatten();
    check(&Source { subject: &subject, text: &text_body, html: html_body.as_deref() })?;
    let now = Utc::now();
    email_template::ActiveModel {
        id: Set(EmailTemplateId::new().0),
        name: Set(name),
        subject: Set(subject),
        text_body: Set(text_body),
        html_body: Set(html_body),
        created_by: Set(Some(actor.0)),
        updated_by: Set(Some(actor.0)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&**tx)
    .await
    .map_err(taken_name)
}

pub async fn update(
    tx: &TenantTx,
    actor: UserId,
    id: EmailTemplateId,
    fields: TemplateFields,
) -> ApiResult<email_template::Model> {
    let before = find(tx, id).await?;
    let name = match fields.name {
        Some(name) => text::required("name", &name, 200)?,
        None => before.name.clone(),
    };
    let subject = fields.subject.unwrap_or_else(|| before.subject.clone());
    let text_body = fields.text.unwrap_or_else(|| before.text_body.clone());
    let html_body = fields.html.unwrap_or_else(|| before.html_body.clone());
    check(&Source { subject: &subject, text: &text_body, html: html_body.as_deref() })?;
    let mut active: email_template::ActiveModel = before.into();
    active.name = Set(name);
    active.subject = Set(subject);
    active.text_body = Set(text_body);
    active.html_body = Set(html_body);
    active.updated_by = Set(Some(actor.0));
    active.updated_at = Set(Utc::now());
    active.update(&**tx).await.map_err(taken_name)
}

pub async fn delete(tx: &TenantTx, id: EmailTemplateId) -> ApiResult<email_template::Model> {
    let template = find(tx, id).await?;
    email_template::Entity::delete_by_id(template.id).exec(&**tx).await?;
    Ok(template)
}

fn taken_name(err: DbErr) -> ApiError {
    match violated_constraint(&err) {
        Some((code, Some(constraint))) if code == "23505" && constraint == "email_templates_name_key" => {
            ApiError::Conflict("a template with this name already exists".to_owned())
        }
        _ => err.into(),
    }
}

/// The template rendered for `contact` and `deal` (either may be absent), sent by `sender`.
pub async fn preview(
    tx: &TenantTx,
    sender: UserId,
    id: EmailTemplateId,
    contact: Option<ContactId>,
    deal: Option<DealId>,
) -> ApiResult<Rendered> {
    let template = find(tx, id).await?;
    let variables = variables(tx, sender, contact, deal).await?;
    let source =
        Source { subject: &template.subject, text: &template.text_body, html: template.html_body.as_deref() };
    render(&source, &variables)
}

#[derive(FromQueryResult)]
struct ContactRow {
    first_name: String,
    last_name: String,
    email: Option<String>,
    phone: Option<String>,
    job_title: Option<String>,
    company_name: Option<String>,
    company_domain: Option<String>,
}

#[derive(FromQueryResult)]
struct DealRow {
    title: String,
    amount: Option<rust_decimal::Decimal>,
    currency: String,
    stage: String,
    expected_close_date: Option<chrono::NaiveDate>,
    company_name: Option<String>,
    company_domain: Option<String>,
}

#[derive(FromQueryResult)]
struct SenderRow {
    name: String,
    email: String,
    organization: String,
}

/// What a template can say about this contact, deal (of this organization: others are not
/// found), sender and organization.
pub async fn variables(
    tx: &TenantTx,
    sender: UserId,
    contact: Option<ContactId>,
    deal: Option<DealId>,
) -> ApiResult<Variables> {
    let mut variables = Variables::default();
    if let Some(id) = contact {
        let mut sql = Sql::new(
            "SELECT c.first_name, c.last_name, c.email, c.phone, c.job_title, co.name AS company_name,
                    co.domain AS company_domain
             FROM contacts c LEFT JOIN companies co ON co.id = c.company_id AND co.deleted_at IS NULL
             WHERE c.deleted_at IS NULL AND c.id = ",
        );
        sql.bind(id.0);
        let row = ContactRow::find_by_statement(sql.statement()).one(&**tx).await?;
        let row = row.ok_or_else(|| ApiError::bad_input("contactId", "contact not found"))?;
        let full_name = format!("{} {}", row.first_name, row.last_name).trim().to_owned();
        if let Some(name) = row.company_name {
            variables.company = Some(CompanyVars { name, domain: row.company_domain });
        }
        variables.contact = Some(ContactVars {
            first_name: row.first_name,
            last_name: row.last_name,
            full_name,
            email: row.email,
            phone: row.phone,
            job_title: row.job_title,
        });
    }
    if let Some(id) = deal {
        let mut sql = Sql::new(
            "SELECT d.title, d.amount, d.currency::text AS currency, s.name AS stage, d.expected_close_date,
                    co.name AS company_name, co.domain AS company_domain
             FROM deals d JOIN pipeline_stages s ON s.id = d.stage_id
             LEFT JOIN companies co ON co.id = d.company_id AND co.deleted_at IS NULL
             WHERE d.deleted_at IS NULL AND d.id = ",
        );
        sql.bind(id.0);
        let row = DealRow::find_by_statement(sql.statement()).one(&**tx).await?;
        let row = row.ok_or_else(|| ApiError::bad_input("dealId", "deal not found"))?;
        if variables.company.is_none() {
            variables.company = row.company_name.map(|name| CompanyVars { name, domain: row.company_domain });
        }
        variables.deal = Some(DealVars {
            title: row.title,
            amount: row.amount.map(|a| a.to_string()),
            currency: row.currency,
            stage: row.stage,
            expected_close_date: row.expected_close_date.map(|d| d.to_string()),
        });
    }
    let mut sql = Sql::new(
        "SELECT u.name, u.email, t.name AS organization FROM crm.users u, crm.tenants t WHERE u.id = ",
    );
    sql.bind(sender.0).push(" AND t.id = ").bind(tx.tenant().0);
    if let Some(row) = SenderRow::find_by_statement(sql.statement()).one(&**tx).await? {
        variables.sender = Some(SenderVars { name: row.name, email: row.email });
        variables.organization = Some(OrganizationVars { name: row.organization });
    }
    Ok(variables)
}
