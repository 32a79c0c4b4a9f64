//! Email templates: saved, checked when saved, previewed with a real contact and deal.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use chrono::{DateTime, Utc};
use crm_entities::ids::{ContactId, DealId, EmailTemplateId};
use crm_entities::tenant::email_template;
use crm_platform::Caller;

use crate::mail::library::{self, TemplateFields};
use crate::mail::templates::{Rendered, VARIABLES};

/// An organization's email template. Each part is a Jinja template over the variables
/// `emailTemplateVariables` lists; in `html` every value is HTML-escaped.
pub struct EmailTemplate(pub email_template::Model);

#[Object]
impl EmailTemplate {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn subject(&self) -> &str {
        &self.0.subject
    }
    async fn text(&self) -> &str {
        &self.0.text_body
    }
    async fn html(&self) -> Option<&str> {
        self.0.html_body.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// A template rendered for one contact and deal.
#[derive(SimpleObject)]
pub struct EmailPreview {
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
}

impl From<Rendered> for EmailPreview {
    fn from(rendered: Rendered) -> Self {
        Self { subject: rendered.subject, text: rendered.text, html: rendered.html }
    }
}

#[derive(InputObject)]
pub struct CreateEmailTemplateInput {
    pub name: String,
    /// One line.
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
}

#[derive(InputObject)]
pub struct UpdateEmailTemplateInput {
    pub name: Option<String>,
    pub subject: Option<String>,
    pub text: Option<String>,
    /// `null` removes the HTML body.
    pub html: MaybeUndefined<String>,
}

fn template_id(id: &ID) -> async_graphql::Result<EmailTemplateId> {
    Ok(EmailTemplateId::parse(id, "id")?)
}

#[derive(Default)]
pub struct TemplateQuery;

#[Object]
impl TemplateQuery {
    /// The organization's templates by name.
    async fn email_templates(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<EmailTemplate>> {
        let tx = Caller::of(ctx)?.tx().await?;
        let templates = library::list(&tx).await?;
        tx.commit().await?;
        Ok(templates.into_iter().map(EmailTemplate).collect())
    }

    async fn email_template(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<EmailTemplate> {
        let tx = Caller::of(ctx)?.tx().await?;
        let template = library::find(&tx, template_id(&id)?).await?;
        tx.commit().await?;
        Ok(EmailTemplate(template))
    }

    /// The variables templates may use, as `object.field`.
    async fn email_template_variables(&self) -> Vec<String> {
        VARIABLES
            .iter()
            .flat_map(|(object, fields)| fields.iter().map(move |field| format!("{object}.{field}")))
            .collect()
    }

    /// The template rendered for a contact and/or deal of the organization, sent by the caller.
    async fn preview_email_template(
        &self,
        ctx: &Context<'_>,
        id: ID,
        contact_id: Option<ID>,
        deal_id: Option<ID>,
    ) -> async_graphql::Result<EmailPreview> {
        let caller = Caller::of(ctx)?;
        let contact = contact_id.as_ref().map(|id| ContactId::parse(id, "contactId")).transpose()?;
        let deal = deal_id.as_ref().map(|id| DealId::parse(id, "dealId")).transpose()?;
        let tx = caller.tx().await?;
        let rendered = library::preview(&tx, caller.user(), template_id(&id)?, contact, deal).await?;
        tx.commit().await?;
        Ok(rendered.into())
    }
}

#[derive(Default)]
pub struct TemplateMutation;

#[Object]
impl TemplateMutation {
    /// Saves a template after checking every part: a syntax error or unknown variable is
    /// BAD_USER_INPUT naming the part (`subject`, `text`, `html`) and the line.
    async fn create_email_template(
        &self,
        ctx: &Context<'_>,
        input: CreateEmailTemplateInput,
    ) -> async_graphql::Result<EmailTemplate> {
        let caller = Caller::of(ctx)?;
        let fields = TemplateFields {
            name: Some(input.name),
            subject: Some(input.subject),
            text: Some(input.text),
            html: Some(input.html),
        };
        let tx = caller.write_tx().await?;
        let template = library::create(&tx, caller.user(), fields).await?;
        tx.commit().await?;
        Ok(EmailTemplate(template))
    }

    async fn update_email_template(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateEmailTemplateInput,
    ) -> async_graphql::Result<EmailTemplate> {
        let caller = Caller::of(ctx)?;
        let html = match input.html {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(html) => Some(Some(html)),
        };
        let fields = TemplateFields { name: input.name, subject: input.subject, text: input.text, html };
        let tx = caller.write_tx().await?;
        let template = library::update(&tx, caller.user(), template_id(&id)?, fields).await?;
        tx.commit().await?;
        Ok(EmailTemplate(template))
    }

    async fn delete_email_template(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<EmailTemplate> {
        let caller = Caller::of(ctx)?;
        let tx = caller.write_tx().await?;
        let template = library::delete(&tx, template_id(&id)?).await?;
        tx.commit().await?;
        Ok(EmailTemplate(template))
    }
}
