//! Email a member sends to a contact (or any address): written from a saved template or by
//! hand, queued in the request's transaction, and listed with what became of it.

use crm_entities::ids::{CompanyId, ContactId, DealId, EmailId, EmailTemplateId};
use crm_entities::tenant::email::{self, EmailPurpose, EmailStatus};
use crm_platform::ids::UserId;
use crm_platform::sql::{Sql, columns};
use crm_platform::{ApiError, ApiResult, TenantTx};
use sea_orm::{EntityTrait, FromQueryResult};
use uuid::Uuid;

use crate::mail::library;
use crate::mail::queue::{self, NewEmail, parse_address};

/// What `sendEmail` was given.
pub struct SendRequest {
    pub contact: Option<ContactId>,
    pub to: Option<String>,
    pub template: Option<EmailTemplateId>,
    pub subject: Option<String>,
    pub text: Option<String>,
    pub html: Option<String>,
    pub deal: Option<DealId>,
}

#[derive(FromQueryResult)]
struct Recipient {
    id: Uuid,
    email: Option<String>,
    first_name: String,
    last_name: String,
    company_id: Option<Uuid>,
}

const RECIPIENT: &str =
    "SELECT id, email, first_name, last_name, company_id FROM contacts WHERE deleted_at IS NULL AND ";

pub async fn send(tx: &TenantTx, sender: UserId, request: SendRequest) -> ApiResult<email::Model> {
    let recipient = match (request.contact, request.to.as_deref()) {
        (Some(_), Some(_)) => return Err(ApiError::bad_input("to", "give contactId or to, not both")),
        (None, None) => return Err(ApiError::bad_input("to", "contactId or to is required")),
        (Some(contact), None) => {
            let mut sql = Sql::new(RECIPIENT);
            sql.push("id = ").bind(contact.0);
            let found = Recipient::find_by_statement(sql.statement()).one(&**tx).await?;
            let found = found.ok_or_else(|| ApiError::bad_input("contactId", "contact not found"))?;
            if found.email.as_deref().is_none_or(|e| e.trim().is_empty()) {
                return Err(ApiError::bad_input("contactId", "the contact has no email address"));
            }
            found
        }
        (None, Some(to)) => {
            let address = parse_address(to, "to")?;
            // Mail to a contact's address belongs on that contact's timeline.
            let mut sql = Sql::new(RECIPIENT);
            sql.push("lower(email) = lower(").bind(address.clone()).push(") ORDER BY created_at LIMIT 1");
            let known = Recipient::find_by_statement(sql.statement()).one(&**tx).await?;
            known.unwrap_or(Recipient {
                id: Uuid::nil(),
                email: Some(address),
                first_name: String::new(),
                last_name: String::new(),
                company_id: None,
            })
        }
    };
    let contact = (!recipient.id.is_nil()).then_some(ContactId(recipient.id));
    if let Some(deal) = request.deal {
        let mut sql = Sql::new("SELECT 1 AS found FROM deals WHERE deleted_at IS NULL AND id = ");
        sql.bind(deal.0);
        if sea_orm::ConnectionTrait::query_one(&**tx, sql.statement()).await?.is_none() {
            return Err(ApiError::bad_input("dealId", "deal not found"));
        }
    }
    let (subject, text, html) = match request.template {
        Some(template) => {
            if request.subject.is_some() || request.text.is_some() || request.html.is_some() {
                return Err(ApiError::bad_input(
                    "templateId",
                    "give templateId or subject and text, not both",
                ));
            }
            let rendered = library::preview(tx, sender, template, contact, request.deal).await?;
            (rendered.subject, rendered.text, rendered.html)
        }
        None => {
            let subject = request.subject.unwrap_or_default();
            let html = request.html.filter(|h| !h.trim().is_empty());
            let text = match (request.text.filter(|t| !t.trim().is_empty()), &html) {
                (Some(text), _) => text,
                (None, Some(html)) => plain_text_of(html),
                (None, None) => return Err(ApiError::bad_input("text", "text or html is required")),
            };
            (subject, text, html)
        }
    };
    let name = format!("{} {}", recipient.first_name, recipient.last_name).trim().to_owned();
    queue::queue(
        tx,
        NewEmail {
            purpose: EmailPurpose::Crm,
            to_address: recipient.email.unwrap_or_default(),
            to_name: Some(name),
            contact,
            company: recipient.company_id.map(CompanyId),
            deal: request.deal,
            template: request.template,
            sender: Some(sender),
            subject,
            text,
            html,
        },
    )
    .await
}

/// A readable plain-text part for mail written only in HTML: tags dropped, blocks on lines,
/// each link's address after its words.
pub fn plain_text_of(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    let mut tag = String::new();
    let mut link: Option<String> = None;
    for c in html.chars() {
        match (in_tag, c) {
            (false, '<') => {
                in_tag = true;
                tag.clear();
            }
            (true, '>') => {
                in_tag = false;
                let closing = tag.starts_with('/');
                let name = tag.trim_start_matches('/').split_whitespace().next().unwrap_or_default();
                let name = name.to_ascii_lowercase();
                if name == "a" && !closing {
                    link = crate::mail::tracking::links_of(&format!("<{tag}>")).into_iter().next();
                } else if name == "a"
                    && let Some(url) = link.take()
                {
                    out.push_str(&format!(" ({url})"));
                }
                if matches!(name.as_str(), "br" | "p" | "div" | "li" | "tr" | "h1" | "h2" | "h3") {
                    out.push('\n');
                }
            }
            (true, c) => tag.push(c),
            (false, c) => out.push(c),
        }
    }
    let decoded =
        out.replace("&nbsp;", " ").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"");
    let decoded = decoded.replace("&#39;", "'").replace("&amp;", "&");
    let lines: Vec<&str> = decoded.lines().map(str::trim).collect();
    lines.join("\n").trim().to_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn html_only_mail_gets_a_text_part_with_its_links() {
        let html = r#"<p>Hello&nbsp;Ann,</p><p>see <a class="x" href="https://e.test/p?a=1&amp;b=2">our pricing</a>.</p>"#;
        assert_eq!(super::plain_text_of(html), "Hello Ann,\n\nsee our pricing (https://e.test/p?a=1&b=2).");
    }
}

/// What `emails(filter:)` selects; every part given must hold.
#[derive(Default)]
pub struct EmailFilter {
    pub contact: Option<ContactId>,
    pub company: Option<CompanyId>,
    pub deal: Option<DealId>,
    pub sender: Option<UserId>,
    pub status: Option<EmailStatus>,
}

/// Mail to contacts matching `filter`, newest first: `size` of them after `after`.
pub async fn list(
    tx: &TenantTx,
    filter: EmailFilter,
    size: u64,
    after: Option<EmailId>,
) -> ApiResult<Vec<email::Model>> {
    use sea_orm::ActiveEnum;
    let mut sql = Sql::new(&format!(
        "SELECT {} FROM emails WHERE purpose IN ('crm', 'followup')",
        columns::<email::Entity>("")
    ));
    for (column, id) in [
        ("contact_id", filter.contact.map(|c| c.0)),
        ("company_id", filter.company.map(|c| c.0)),
        ("deal_id", filter.deal.map(|d| d.0)),
        ("sender_id", filter.sender.map(|u| u.0)),
    ] {
        if let Some(id) = id {
            sql.push(&format!(" AND {column} = ")).bind(id);
        }
    }
    if let Some(status) = filter.status {
        sql.push(" AND status = ").bind(status.to_value());
    }
    if let Some(after) = after {
        sql.push(" AND (queued_at, id) < (SELECT queued_at, id FROM emails WHERE id = ")
            .bind(after.0)
            .push(")");
    }
    sql.push(" ORDER BY queued_at DESC, id DESC LIMIT ").bind(size as i64);
    Ok(email::Entity::find().from_raw_sql(sql.statement()).all(&**tx).await?)
}

/// One email to a contact, if this organization has it.
pub async fn find(tx: &TenantTx, id: EmailId) -> ApiResult<email::Model> {
    email::Entity::find_by_id(id.0)
        .one(&**tx)
        .await?
        .filter(|email| email.purpose.is_to_contacts())
        .ok_or(ApiError::NotFound("email"))
}
