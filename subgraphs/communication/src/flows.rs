//! The event flows of communication, as durable consumers: each runs once per event in the
//! tenant named by the subject, in one transaction with the consumer's ledger, so an email is
//! queued exactly once however often the event is delivered.
//!
//! | event | what follows |
//! |---|---|
//! | `user.created` | a welcome email to the new member |
//! | `tenant.user_invited` | the invitation email with its accept link |
//! | `user.password_reset_requested` | the reset email with its link |
//! | `task.reminder_due` | a reminder email to the assignee, unless their preferences say no |
//! | `deal.closed_won` | an activity on the deal, a follow-up task for its owner, and (per the mail settings) a follow-up email to its primary contact |
//! | `contact.merged` | activities, emails and tasks of the merged contacts move to the survivor |

use chrono::{Duration, Utc};
use crm_entities::events::communication::TaskReminderDue;
use crm_entities::events::contact::ContactsMerged;
use crm_entities::events::deal::ClosedWon;
use crm_entities::events::identity::PasswordResetRequested;
use crm_entities::events::tenancy::{UserCreated, UserInvited};
use crm_entities::ids::{CompanyId, ContactId, EmailTemplateId};
use crm_entities::tenant::activity::ActivityType;
use crm_entities::tenant::email::EmailPurpose;
use crm_entities::tenant::task::TaskPriority;
use crm_platform::consumer::Consumer;
use crm_platform::events::Envelope;
use crm_platform::ids::UserId;
use crm_platform::sql::Sql;
use crm_platform::{ApiError, ApiResult, TenantTx};
use futures::future::BoxFuture;
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Statement};
use uuid::Uuid;

use crate::activities::{NewActivity, log_activity};
use crate::mail::library;
use crate::mail::queue::{NewEmail, queue};
use crate::mail::settings;
use crate::mail::templates::{Source, render};
use crate::tasks::{TaskFields, create_task};

pub const CONSUMERS: [Consumer; 6] = [
    Consumer::of::<ContactsMerged>("communication-contacts-merged", move_to_survivor),
    Consumer::of::<UserCreated>("communication-welcome", welcome),
    Consumer::of::<UserInvited>("communication-invitation", invitation),
    Consumer::of::<PasswordResetRequested>("communication-password-reset", password_reset),
    Consumer::of::<TaskReminderDue>("communication-task-reminder", task_reminder),
    Consumer::of::<ClosedWon>("communication-deal-won", deal_won),
];

/// How long after a win the owner's follow-up task is due.
const FOLLOW_UP_AFTER: Duration = Duration::days(2);

#[derive(FromQueryResult)]
pub(crate) struct Person {
    pub name: String,
    pub email: String,
    pub organization: String,
}

/// A member of the tenant (`None` for an unknown user), with the organization's name.
pub(crate) async fn member(tx: &TenantTx, user: UserId) -> anyhow::Result<Option<Person>> {
    let mut sql = Sql::new(
        "SELECT u.name, u.email, t.name AS organization FROM crm.users u
         JOIN crm.memberships m ON m.user_id = u.id JOIN crm.tenants t ON t.id = m.tenant_id
         WHERE m.tenant_id = ",
    );
    sql.bind(tx.tenant().0).push(" AND u.id = ").bind(user.0);
    Ok(Person::find_by_statement(sql.statement()).one(&**tx).await?)
}

#[derive(FromQueryResult)]
struct Organization {
    name: String,
}

async fn organization(tx: &TenantTx) -> anyhow::Result<String> {
    let mut sql = Sql::new("SELECT name FROM crm.tenants WHERE id = ");
    sql.bind(tx.tenant().0);
    Ok(Organization::find_by_statement(sql.statement()).one(&**tx).await?.map(|o| o.name).unwrap_or_default())
}

/// What a handler does with an error from the domain: input it can never accept (an address
/// that is not one, say) is logged and the event is done with; anything else is retried.
fn settle<T>(result: ApiResult<T>, what: &str) -> anyhow::Result<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(ApiError::BadInput { field, message }) => {
            tracing::warn!(%field, %message, "{what} skipped: the event's data cannot be used");
            Ok(None)
        }
        Err(err) => Err(anyhow::anyhow!("{what}: {err:?}")),
    }
}

/// Queues a plain-text message from the system to a member or invitee.
pub(crate) async fn notify(
    tx: &TenantTx,
    purpose: EmailPurpose,
    to: &str,
    name: Option<String>,
    subject: String,
    text: String,
) -> anyhow::Result<()> {
    let email = NewEmail {
        purpose,
        to_address: to.to_owned(),
        to_name: name,
        contact: None,
        company: None,
        deal: None,
        template: None,
        sender: None,
        subject,
        text,
        html: None,
    };
    settle(queue(tx, email).await, "a notification email")?;
    Ok(())
}

fn welcome<'a>(tx: &'a TenantTx, event: &'a Envelope) -> BoxFuture<'a, anyhow::Result<()>> {
    Box::pin(async move {
        let created = event.payload::<UserCreated>()?;
        let Some(person) = member(tx, created.user_id).await? else { return Ok(()) };
        let text = format!(
            "Hello {},\n\nwelcome to {} on MTenant CRM. You can sign in with {} — your contacts, \
             deals, tasks and email are waiting.\n\nThe MTenant CRM team",
            person.name, person.organization, person.email
        );
        let subject = format!("Welcome to {}", person.organization);
        notify(tx, EmailPurpose::Welcome, &person.email, Some(person.name), subject, text).await
    })
}

fn invitation<'a>(tx: &'a TenantTx, event: &'a Envelope) -> BoxFuture<'a, anyhow::Result<()>> {
    Box::pin(async move {
        let invited = event.payload::<UserInvited>()?;
        let organization = organization(tx).await?;
        let inviter = match event.actor {
            Some(actor) => member(tx, actor).await?.map(|p| p.name),
            None => None,
        };
        let by =
            inviter.map(|name| format!("{name} invited you")).unwrap_or_else(|| "You are invited".to_owned());
        let text = format!(
            "Hello,\n\n{by} to join {organization} on MTenant CRM as {}.\n\nAccept the invitation here:\n{}\n\n\
             If you did not expect this, ignore this email.",
            invited.role.as_str(),
            invited.accept_url
        );
        let subject = format!("Join {organization} on MTenant CRM");
        notify(tx, EmailPurpose::Invitation, &invited.email, None, subject, text).await
    })
}

fn password_reset<'a>(tx: &'a TenantTx, event: &'a Envelope) -> BoxFuture<'a, anyhow::Result<()>> {
    Box::pin(async move {
        let requested = event.payload::<PasswordResetRequested>()?;
        let name = member(tx, requested.user_id).await?.map(|p| p.name);
        let text = format!(
            "Hello,\n\nsomeone asked to reset the password of {} on MTenant CRM. Choose a new one here:\n{}\n\n\
             The link works once and expires soon. If it was not you, ignore this email: your password stays.",
            requested.email, requested.reset_url
        );
        let subject = "Reset your MTenant CRM password".to_owned();
        notify(tx, EmailPurpose::Reset, &requested.email, name, subject, text).await
    })
}

#[derive(FromQueryResult)]
struct Notifications {
    email_notifications: bool,
}

fn task_reminder<'a>(tx: &'a TenantTx, event: &'a Envelope) -> BoxFuture<'a, anyhow::Result<()>> {
    Box::pin(async move {
        let due = event.payload::<TaskReminderDue>()?;
        let Some(assignee) = due.assignee_id else { return Ok(()) };
        let mut prefs = Sql::new("SELECT email_notifications FROM user_preferences WHERE user_id = ");
        prefs.bind(assignee.0);
        let wanted = Notifications::find_by_statement(prefs.statement()).one(&**tx).await?;
        if wanted.is_some_and(|p| !p.email_notifications) {
            return Ok(());
        }
        let Some(person) = member(tx, assignee).await? else { return Ok(()) };
        let when = match due.due_at {
            Some(at) => format!("It is due {}.", at.format("%Y-%m-%d %H:%M UTC")),
            None => "It has no due date.".to_owned(),
        };
        let text = format!("Hello {},\n\na reminder for your task \"{}\". {when}\n", person.name, due.title);
        let subject = format!("Reminder: {}", due.title);
        notify(tx, EmailPurpose::Reminder, &person.email, Some(person.name), subject, text).await
    })
}

#[derive(FromQueryResult)]
struct WonDeal {
    title: String,
    owner_id: Option<Uuid>,
    company_id: Option<Uuid>,
}

#[derive(FromQueryResult)]
struct PrimaryContact {
    id: Uuid,
    email: String,
    first_name: String,
    last_name: String,
}

fn deal_won<'a>(tx: &'a TenantTx, event: &'a Envelope) -> BoxFuture<'a, anyhow::Result<()>> {
    Box::pin(async move {
        let ClosedWon(moved) = event.payload::<ClosedWon>()?;
        let deal_id = moved.deal_id;
        let mut sql =
            Sql::new("SELECT title, owner_id, company_id FROM deals WHERE deleted_at IS NULL AND id = ");
        sql.bind(deal_id.0);
        let Some(deal) = WonDeal::find_by_statement(sql.statement()).one(&**tx).await? else { return Ok(()) };
        let activity = NewActivity {
            kind: ActivityType::Note,
            subject: "Deal closed won".to_owned(),
            body: Some(format!("{} was won.", deal.title)),
            deal: Some(deal_id),
            contact: None,
            company: deal.company_id.map(CompanyId),
            occurred_at: event.timestamp,
            duration_minutes: None,
            outcome: None,
            participants: Vec::new(),
        };
        settle(log_activity(tx, None, activity).await, "the won deal's activity")?;
        // The owner follows up; a deal without one is followed up by whoever won it.
        let owner = deal.owner_id.map(UserId).or(event.actor);
        if let Some(owner) = owner {
            let task = TaskFields {
                title: Some(format!("Follow up on the won deal {}", deal.title)),
                due_at: Some(Some(Utc::now() + FOLLOW_UP_AFTER)),
                assignee: Some(Some(owner)),
                priority: Some(TaskPriority::High),
                deal: Some(Some(deal_id)),
                company: Some(deal.company_id.map(CompanyId)),
                ..TaskFields::default()
            };
            settle(create_task(tx, None, task).await, "the won deal's follow-up task")?;
        }
        let Some(mail) = settle(settings::load(tx).await, "the mail settings")? else { return Ok(()) };
        if !mail.deal_won_follow_up {
            return Ok(());
        }
        let mut sql = Sql::new(
            "SELECT c.id, c.email, c.first_name, c.last_name FROM deal_contacts dc
             JOIN contacts c ON c.id = dc.contact_id
             WHERE c.deleted_at IS NULL AND coalesce(c.email, '') <> '' AND dc.deal_id = ",
        );
        sql.bind(deal_id.0)
            .push(" ORDER BY lower(coalesce(dc.role, '')) = 'primary' DESC, dc.created_at, c.id LIMIT 1");
        let Some(contact) = PrimaryContact::find_by_statement(sql.statement()).one(&**tx).await? else {
            return Ok(());
        };
        let contact_id = ContactId(contact.id);
        // The owner signs it; without an owner, the organization does.
        let signer = owner.unwrap_or(UserId(Uuid::nil()));
        let variables = library::variables(tx, signer, Some(contact_id), Some(deal_id)).await;
        let Some(variables) = settle(variables, "the follow-up's variables")? else { return Ok(()) };
        let template = match mail.deal_won_template_id {
            Some(id) => library::find(tx, EmailTemplateId(id)).await.ok(),
            None => None,
        };
        let source = match &template {
            Some(t) => Source { subject: &t.subject, text: &t.text_body, html: t.html_body.as_deref() },
            None => DEFAULT_FOLLOW_UP,
        };
        let Some(rendered) = settle(render(&source, &variables), "the follow-up email")? else {
            return Ok(());
        };
        let email = NewEmail {
            purpose: EmailPurpose::Followup,
            to_address: contact.email,
            to_name: Some(format!("{} {}", contact.first_name, contact.last_name).trim().to_owned()),
            contact: Some(contact_id),
            company: deal.company_id.map(CompanyId),
            deal: Some(deal_id),
            template: template.map(|t| EmailTemplateId(t.id)),
            sender: None,
            subject: rendered.subject,
            text: rendered.text,
            html: rendered.html,
        };
        settle(queue(tx, email).await, "the follow-up email")?;
        Ok(())
    })
}

/// The follow-up when the organization has not chosen a template.
const DEFAULT_FOLLOW_UP: Source<'static> = Source {
    subject: "Thank you{% if contact %}, {{ contact.first_name }}{% endif %}",
    text: "Hello{% if contact %} {{ contact.first_name }}{% endif %},\n\nthank you for your trust in \
           {% if organization %}{{ organization.name }}{% else %}us{% endif %}{% if deal %} with {{ deal.title }}{% endif %}. \
           We will be in touch about the next steps.\n\n{% if sender %}{{ sender.name }}{% endif %}",
    html: None,
};

fn move_to_survivor<'a>(tx: &'a TenantTx, event: &'a Envelope) -> BoxFuture<'a, anyhow::Result<()>> {
    Box::pin(async move {
        let merged = event.payload::<ContactsMerged>()?;
        let others: Vec<Uuid> = merged.merged_ids.iter().map(|id| id.0).collect();
        for table in ["activities", "emails", "tasks"] {
            tx.execute(Statement::from_sql_and_values(
                DbBackend::Postgres,
                format!("UPDATE {table} SET contact_id = $1 WHERE contact_id = ANY($2)"),
                [merged.primary_id.0.into(), others.clone().into()],
            ))
            .await?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::templates::check;

    #[test]
    fn the_built_in_follow_up_is_a_valid_template() {
        check(&DEFAULT_FOLLOW_UP).expect("valid");
    }
}
