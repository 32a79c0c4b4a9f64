//! `communicationAnalytics`: email outcomes per period and sender, activities by type.

use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use crm_entities::tenant::activity::ActivityType;
use crm_platform::Caller;
use crm_platform::ids::UserId;
use crm_platform::user_ref::UserRef;

use crate::analytics::{self, EmailCounts, Period};

/// Emails to contacts queued in a range, and what became of them.
#[derive(SimpleObject)]
pub struct EmailStats {
    pub sent: i64,
    pub delivered: i64,
    pub failed: i64,
    pub bounced: i64,
    pub opened: i64,
    pub clicked: i64,
    /// Opened over delivered (0–1); null when nothing was delivered.
    pub open_rate: Option<f64>,
    /// Clicked over delivered (0–1); null when nothing was delivered.
    pub click_rate: Option<f64>,
}

impl From<EmailCounts> for EmailStats {
    fn from(c: EmailCounts) -> Self {
        let (open_rate, click_rate) = (c.open_rate(), c.click_rate());
        Self {
            sent: c.sent,
            delivered: c.delivered,
            failed: c.failed,
            bounced: c.bounced,
            opened: c.opened,
            clicked: c.clicked,
            open_rate,
            click_rate,
        }
    }
}

#[derive(SimpleObject)]
pub struct EmailPeriodStats {
    /// Start of the period (UTC).
    pub period_start: DateTime<Utc>,
    pub stats: EmailStats,
}

#[derive(SimpleObject)]
pub struct EmailSenderStats {
    /// Null for mail the system sent (a won deal's follow-up).
    pub sender: Option<UserRef>,
    pub stats: EmailStats,
}

#[derive(SimpleObject)]
pub struct ActivityTypeCount {
    #[graphql(name = "type")]
    pub kind: ActivityType,
    pub count: i64,
}

#[derive(SimpleObject)]
pub struct CommunicationAnalytics {
    pub totals: EmailStats,
    pub by_period: Vec<EmailPeriodStats>,
    pub by_sender: Vec<EmailSenderStats>,
    pub activities_by_type: Vec<ActivityTypeCount>,
}

#[derive(Default)]
pub struct AnalyticsQuery;

#[Object]
impl AnalyticsQuery {
    /// Email sent, delivered, failed, open and click rates per period (UTC) and per sender, and
    /// activities by type, for `[from, to)`; `senderId` narrows both to one member.
    async fn communication_analytics(
        &self,
        ctx: &Context<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        #[graphql(default_with = "Period::Month")] period: Period,
        sender_id: Option<ID>,
    ) -> async_graphql::Result<CommunicationAnalytics> {
        let sender = sender_id.as_ref().map(|id| UserId::parse(id, "senderId")).transpose()?;
        let tx = Caller::of(ctx)?.tx().await?;
        let report = analytics::report(&tx, from, to, period, sender).await?;
        tx.commit().await?;
        let activities_by_type = report
            .activities_by_type
            .into_iter()
            .filter_map(|(kind, count)| {
                let kind = <ActivityType as sea_orm::ActiveEnum>::try_from_value(&kind).ok()?;
                Some(ActivityTypeCount { kind, count })
            })
            .collect();
        Ok(CommunicationAnalytics {
            totals: report.totals.into(),
            by_period: report
                .by_period
                .into_iter()
                .map(|(period_start, counts)| EmailPeriodStats { period_start, stats: counts.into() })
                .collect(),
            by_sender: report
                .by_sender
                .into_iter()
                .map(|(sender, counts)| EmailSenderStats {
                    sender: UserRef::of(sender.map(|u| u.0)),
                    stats: counts.into(),
                })
                .collect(),
            activities_by_type,
        })
    }
}
