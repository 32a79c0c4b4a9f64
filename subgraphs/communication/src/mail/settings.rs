//! The organization's mail settings: whether opens and clicks are tracked, and whether a won
//! deal sends its primary contact a follow-up (with which template). One row, absent until the
//! first change: absent means the defaults.

use chrono::{DateTime, Utc};
use crm_entities::ids::EmailTemplateId;
use crm_platform::sql::Sql;
use crm_platform::{ApiError, ApiResult, TenantTx};
use sea_orm::{ConnectionTrait, FromQueryResult};
use uuid::Uuid;

#[derive(Clone, Debug, FromQueryResult)]
pub struct MailSettings {
    pub tracking: bool,
    pub deal_won_follow_up: bool,
    pub deal_won_template_id: Option<Uuid>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl Default for MailSettings {
    fn default() -> Self {
        Self { tracking: true, deal_won_follow_up: true, deal_won_template_id: None, updated_at: None }
    }
}

/// A change; `None` keeps the current value, `Some(None)` clears the template.
#[derive(Default)]
pub struct SettingsChange {
    pub tracking: Option<bool>,
    pub deal_won_follow_up: Option<bool>,
    pub deal_won_template: Option<Option<EmailTemplateId>>,
}

pub async fn load(tx: &TenantTx) -> ApiResult<MailSettings> {
    let sql =
        Sql::new("SELECT tracking, deal_won_follow_up, deal_won_template_id, updated_at FROM mail_settings");
    Ok(MailSettings::find_by_statement(sql.statement()).one(&**tx).await?.unwrap_or_default())
}

pub async fn update(tx: &TenantTx, change: SettingsChange) -> ApiResult<MailSettings> {
    let mut settings = load(tx).await?;
    if let Some(tracking) = change.tracking {
        settings.tracking = tracking;
    }
    if let Some(follow_up) = change.deal_won_follow_up {
        settings.deal_won_follow_up = follow_up;
    }
    if let Some(template) = change.deal_won_template {
        if let Some(id) = template {
            let mut exists = Sql::new("SELECT 1 FROM email_templates WHERE id = ");
            exists.bind(id.0);
            if tx.query_one(exists.statement()).await?.is_none() {
                return Err(ApiError::bad_input("dealWonTemplateId", "email template not found"));
            }
        }
        settings.deal_won_template_id = template.map(|t| t.0);
    }
    let mut sql = Sql::new(
        "INSERT INTO mail_settings (id, tracking, deal_won_follow_up, deal_won_template_id, updated_at) VALUES (true, ",
    );
    sql.bind(settings.tracking).push(", ").bind(settings.deal_won_follow_up).push(", ");
    sql.bind(settings.deal_won_template_id).push(
        ", now()) ON CONFLICT (id) DO UPDATE SET tracking = excluded.tracking,
         deal_won_follow_up = excluded.deal_won_follow_up,
         deal_won_template_id = excluded.deal_won_template_id, updated_at = excluded.updated_at
         RETURNING tracking, deal_won_follow_up, deal_won_template_id, updated_at",
    );
    Ok(MailSettings::find_by_statement(sql.statement()).one(&**tx).await?.unwrap_or(settings))
}
