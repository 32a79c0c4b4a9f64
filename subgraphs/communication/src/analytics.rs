//! Communication analytics: email outcomes per period and per sender (sent, delivered, failed,
//! opened and clicked, with rates over what was delivered) and activities by type. Periods are
//! UTC calendar days, weeks (from Monday) or months.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use crm_platform::ids::UserId;
use crm_platform::sql::Sql;
use crm_platform::{ApiError, ApiResult, TenantTx};
use sea_orm::FromQueryResult;
use uuid::Uuid;

/// The longest range one request may cover.
const MAX_RANGE_DAYS: i64 = 3 * 366;

#[derive(Clone, Copy, Debug, PartialEq, Eq, async_graphql::Enum)]
#[graphql(name = "ReportPeriod")]
pub enum Period {
    Day,
    Week,
    Month,
}

impl Period {
    fn unit(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
        }
    }
}

/// Counts of emails to contacts queued in a range.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EmailCounts {
    /// Queued (a member pressed send, or a flow sent it).
    pub sent: i64,
    /// Accepted by the mail server.
    pub delivered: i64,
    /// Refused or given up after the last retry.
    pub failed: i64,
    /// Of the failed: the recipient was refused.
    pub bounced: i64,
    /// Delivered and opened (pixel loaded or a link followed).
    pub opened: i64,
    /// Delivered with at least one link followed.
    pub clicked: i64,
}

impl EmailCounts {
    fn add(&mut self, other: &EmailCounts) {
        self.sent += other.sent;
        self.delivered += other.delivered;
        self.failed += other.failed;
        self.bounced += other.bounced;
        self.opened += other.opened;
        self.clicked += other.clicked;
    }

    /// Opened over delivered; `None` when nothing was delivered.
    pub fn open_rate(&self) -> Option<f64> {
        (self.delivered > 0).then(|| self.opened as f64 / self.delivered as f64)
    }

    pub fn click_rate(&self) -> Option<f64> {
        (self.delivered > 0).then(|| self.clicked as f64 / self.delivered as f64)
    }
}

#[derive(FromQueryResult)]
struct Group {
    period: DateTime<Utc>,
    sender_id: Option<Uuid>,
    sent: i64,
    delivered: i64,
    failed: i64,
    bounced: i64,
    opened: i64,
    clicked: i64,
}

#[derive(FromQueryResult)]
struct KindCount {
    kind: String,
    count: i64,
}

pub struct Report {
    pub totals: EmailCounts,
    /// Period start → counts, in time order; periods without email are absent.
    pub by_period: Vec<(DateTime<Utc>, EmailCounts)>,
    /// Sender (`None`: the system) → counts, most sent first.
    pub by_sender: Vec<(Option<UserId>, EmailCounts)>,
    /// Activity type (stored name) → count in the range.
    pub activities_by_type: Vec<(String, i64)>,
}

pub async fn report(
    tx: &TenantTx,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    period: Period,
    sender: Option<UserId>,
) -> ApiResult<Report> {
    if to <= from {
        return Err(ApiError::bad_input("to", "to must be after from"));
    }
    if (to - from).num_days() > MAX_RANGE_DAYS {
        return Err(ApiError::bad_input("to", "a report covers at most three years"));
    }
    let mut sql = Sql::new("SELECT date_trunc(");
    sql.bind(period.unit()).push(
        ", queued_at, 'UTC') AS period, sender_id,
            count(*) AS sent,
            count(*) FILTER (WHERE status = 'sent') AS delivered,
            count(*) FILTER (WHERE status IN ('failed', 'bounced')) AS failed,
            count(*) FILTER (WHERE status = 'bounced') AS bounced,
            count(*) FILTER (WHERE status = 'sent' AND opened_at IS NOT NULL) AS opened,
            count(*) FILTER (WHERE status = 'sent' AND click_count > 0) AS clicked
         FROM emails WHERE purpose IN ('crm', 'followup') AND queued_at >= ",
    );
    sql.bind(from).push(" AND queued_at < ").bind(to);
    if let Some(sender) = sender {
        sql.push(" AND sender_id = ").bind(sender.0);
    }
    sql.push(" GROUP BY 1, 2");
    let groups = Group::find_by_statement(sql.statement()).all(&**tx).await?;

    let mut totals = EmailCounts::default();
    let mut by_period: BTreeMap<DateTime<Utc>, EmailCounts> = BTreeMap::new();
    let mut by_sender: BTreeMap<Option<Uuid>, EmailCounts> = BTreeMap::new();
    for group in &groups {
        let counts = EmailCounts {
            sent: group.sent,
            delivered: group.delivered,
            failed: group.failed,
            bounced: group.bounced,
            opened: group.opened,
            clicked: group.clicked,
        };
        totals.add(&counts);
        by_period.entry(group.period).or_default().add(&counts);
        by_sender.entry(group.sender_id).or_default().add(&counts);
    }
    let mut by_sender: Vec<(Option<UserId>, EmailCounts)> =
        by_sender.into_iter().map(|(id, counts)| (id.map(UserId), counts)).collect();
    by_sender.sort_by_key(|line| std::cmp::Reverse(line.1.sent));

    let mut kinds = Sql::new("SELECT kind, count(*) AS count FROM activities WHERE occurred_at >= ");
    kinds.bind(from).push(" AND occurred_at < ").bind(to);
    if let Some(sender) = sender {
        kinds.push(" AND author_id = ").bind(sender.0);
    }
    kinds.push(" GROUP BY kind ORDER BY kind");
    let kinds = KindCount::find_by_statement(kinds.statement()).all(&**tx).await?;
    Ok(Report {
        totals,
        by_period: by_period.into_iter().collect(),
        by_sender,
        activities_by_type: kinds.into_iter().map(|k| (k.kind, k.count)).collect(),
    })
}
