//! Deal analytics of one pipeline, computed by SQL aggregates (never by looping over rows here),
//! from the deals and their stage history. Trashed deals count nowhere. Amounts are summed per
//! currency and never mixed. The period (`from`, `to`, whole UTC days, both optional) selects:
//! - by stage: live deals created in the period, by the stage they are in now;
//! - forecast: open deals expected to close in the period, by month of expected close;
//! - win rate, sales cycle, per owner (won and lost): deals closed in the period;
//! - stage conversion and time in stage: stage changes made in the period.

use chrono::{Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use crm_entities::ids::PipelineId;
use crm_platform::ids::UserId;
use crm_platform::sql::Sql;
use crm_platform::{ApiError, ApiResult, TenantTx};
use rust_decimal::Decimal;
use sea_orm::FromQueryResult;
use uuid::Uuid;

/// What the analytics look at.
pub struct Scope {
    pub pipeline: PipelineId,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub owner: Option<UserId>,
}

impl Scope {
    /// `expr` (a timestamptz) falls within the period.
    fn within(&self, expr: &str) -> Sql {
        let mut sql = Sql::new("TRUE");
        if let Some(from) = self.from {
            sql.push(&format!(" AND {expr} >= ")).bind(Utc.from_utc_datetime(&from.and_time(NaiveTime::MIN)));
        }
        if let Some(to) = self.to {
            let end = to + Duration::days(1);
            sql.push(&format!(" AND {expr} < ")).bind(Utc.from_utc_datetime(&end.and_time(NaiveTime::MIN)));
        }
        sql
    }

    /// Live deals of the pipeline (and owner), aliased `d`.
    fn deals(&self) -> Sql {
        let mut sql = Sql::new("d.deleted_at IS NULL AND d.pipeline_id = ");
        sql.bind(self.pipeline.0);
        if let Some(owner) = self.owner {
            sql.push(" AND d.owner_id = ").bind(owner.0);
        }
        sql
    }
}

/// The deal's win probability, own or its stage's, as a fraction.
const WEIGHT: &str = "coalesce(d.probability, s.probability)::numeric / 100";

#[derive(FromQueryResult)]
pub struct StageRow {
    pub stage_id: Uuid,
    pub currency: Option<String>,
    pub count: i64,
    pub amount: Option<Decimal>,
    pub weighted: Option<Decimal>,
}

/// Per stage and currency: live deals created in the period, now in that stage.
pub async fn by_stage(tx: &TenantTx, scope: &Scope) -> ApiResult<Vec<StageRow>> {
    let mut sql = Sql::new(&format!(
        "SELECT d.stage_id, d.currency, count(*) AS count, sum(d.amount) AS amount,
                round(sum(d.amount * {WEIGHT}), 2) AS weighted
         FROM deals d JOIN pipeline_stages s ON s.id = d.stage_id WHERE "
    ));
    sql.append(scope.deals()).push(" AND ").append(scope.within("d.created_at"));
    sql.push(" GROUP BY d.stage_id, d.currency ORDER BY d.stage_id, d.currency");
    Ok(StageRow::find_by_statement(sql.statement()).all(&**tx).await?)
}

#[derive(FromQueryResult)]
pub struct MonthRow {
    pub month: String,
    pub currency: String,
    pub count: i64,
    pub amount: Option<Decimal>,
    pub weighted: Option<Decimal>,
}

/// Per month of expected close and currency: open deals expected to close in the period.
pub async fn forecast(tx: &TenantTx, scope: &Scope) -> ApiResult<Vec<MonthRow>> {
    let mut sql = Sql::new(&format!(
        "SELECT to_char(d.expected_close_date, 'YYYY-MM') AS month, d.currency, count(*) AS count,
                sum(d.amount) AS amount, round(sum(d.amount * {WEIGHT}), 2) AS weighted
         FROM deals d JOIN pipeline_stages s ON s.id = d.stage_id
         WHERE d.status = 'open' AND d.expected_close_date IS NOT NULL AND "
    ));
    sql.append(scope.deals())
        .push(" AND ")
        .append(scope.within("d.expected_close_date::timestamp AT TIME ZONE 'UTC'"));
    sql.push(" GROUP BY 1, d.currency ORDER BY 1, d.currency");
    Ok(MonthRow::find_by_statement(sql.statement()).all(&**tx).await?)
}

/// Won, lost and open deals with amounts, for one owner or all (`all_owners`) and one
/// currency or all (`all_currencies`): one statement with grouping sets.
#[derive(FromQueryResult)]
pub struct OutcomeRow {
    pub owner_id: Option<Uuid>,
    pub currency: Option<String>,
    pub all_owners: bool,
    pub all_currencies: bool,
    /// Won in the period.
    pub won: i64,
    /// Lost in the period.
    pub lost: i64,
    pub won_amount: Option<Decimal>,
    /// Won or lost in the period.
    pub closed_amount: Option<Decimal>,
    /// Open now, whenever created.
    pub open: i64,
}

pub async fn outcomes(tx: &TenantTx, scope: &Scope) -> ApiResult<Vec<OutcomeRow>> {
    let closed = |status: &str| {
        let mut sql = Sql::new(&format!("(WHERE d.status {status} AND "));
        sql.append(scope.within("d.closed_at")).push(")");
        sql
    };
    let mut sql = Sql::new(
        "SELECT d.owner_id, d.currency, GROUPING(d.owner_id) = 1 AS all_owners,
                GROUPING(d.currency) = 1 AS all_currencies, count(*) FILTER ",
    );
    sql.append(closed("= 'won'")).push(" AS won, count(*) FILTER ").append(closed("= 'lost'"));
    sql.push(" AS lost, sum(d.amount) FILTER ").append(closed("= 'won'"));
    sql.push(" AS won_amount, sum(d.amount) FILTER ").append(closed("<> 'open'"));
    sql.push(" AS closed_amount, count(*) FILTER (WHERE d.status = 'open') AS open FROM deals d WHERE ");
    sql.append(scope.deals());
    sql.push(
        " GROUP BY GROUPING SETS ((d.owner_id, d.currency), (d.owner_id), (d.currency), ())
          ORDER BY d.owner_id NULLS LAST, d.currency NULLS FIRST",
    );
    Ok(OutcomeRow::find_by_statement(sql.statement()).all(&**tx).await?)
}

#[derive(FromQueryResult)]
pub struct CycleRow {
    pub deals: i64,
    pub average_days: Option<f64>,
    pub median_days: Option<f64>,
}

/// Days from creation to closing of the deals won in the period.
pub async fn sales_cycle(tx: &TenantTx, scope: &Scope) -> ApiResult<CycleRow> {
    let mut sql = Sql::new(
        "SELECT count(*) AS deals, avg(days)::float8 AS average_days,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY days)::float8 AS median_days
         FROM (SELECT extract(epoch FROM d.closed_at - d.created_at) / 86400 AS days FROM deals d
               WHERE d.status = 'won' AND ",
    );
    sql.append(scope.deals()).push(" AND ").append(scope.within("d.closed_at")).push(") won");
    let row = CycleRow::find_by_statement(sql.statement()).one(&**tx).await?;
    row.ok_or_else(|| ApiError::internal(std::io::Error::other("an aggregate returned no row")))
}

#[derive(FromQueryResult)]
pub struct ConversionRow {
    pub stage_id: Uuid,
    pub entered: i64,
    pub advanced: i64,
}

/// Per stage: the deals that entered it in the period, and how many of them went on afterwards
/// to a later stage of the pipeline that is not a LOST one (moving back and forth counts a deal
/// once; being lost is not going on).
pub async fn stage_conversion(tx: &TenantTx, scope: &Scope) -> ApiResult<Vec<ConversionRow>> {
    // For each entry, the furthest non-LOST stage the deal entered afterwards (a window over
    // the deal's history, so the statement stays linear in the history's size).
    let mut sql = Sql::new(
        "WITH entries AS (
             SELECT h.deal_id, h.to_stage_id AS stage_id, s.position, h.changed_at,
                    max(s.position) FILTER (WHERE s.kind <> 'lost') OVER (
                        PARTITION BY h.deal_id ORDER BY h.changed_at, h.id
                        ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS furthest_after
             FROM deal_stage_changes h JOIN deals d ON d.id = h.deal_id
             JOIN pipeline_stages s ON s.id = h.to_stage_id
             WHERE ",
    );
    sql.append(scope.deals()).push(" AND s.pipeline_id = ").bind(scope.pipeline.0).push(")");
    sql.push(
        " SELECT e.stage_id, count(DISTINCT e.deal_id) AS entered,
                 count(DISTINCT e.deal_id) FILTER (WHERE e.furthest_after > e.position) AS advanced
          FROM entries e WHERE ",
    );
    sql.append(scope.within("e.changed_at")).push(" GROUP BY e.stage_id");
    Ok(ConversionRow::find_by_statement(sql.statement()).all(&**tx).await?)
}

#[derive(FromQueryResult)]
pub struct DwellRow {
    pub stage_id: Uuid,
    pub exits: i64,
    pub average_seconds: Option<f64>,
    pub median_seconds: Option<f64>,
}

/// Per stage: how long deals stayed in it, over the moves out of it made in the period.
pub async fn time_in_stage(tx: &TenantTx, scope: &Scope) -> ApiResult<Vec<DwellRow>> {
    let mut sql = Sql::new(
        "SELECT h.from_stage_id AS stage_id, count(*) AS exits,
                avg(extract(epoch FROM h.changed_at - h.from_entered_at))::float8 AS average_seconds,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM h.changed_at - h.from_entered_at))::float8
                    AS median_seconds
         FROM deal_stage_changes h JOIN deals d ON d.id = h.deal_id
         WHERE h.from_entered_at IS NOT NULL AND h.from_stage_id IN (SELECT id FROM pipeline_stages WHERE pipeline_id = ",
    );
    sql.bind(scope.pipeline.0).push(") AND ");
    sql.append(scope.deals()).push(" AND ").append(scope.within("h.changed_at"));
    sql.push(" GROUP BY h.from_stage_id");
    Ok(DwellRow::find_by_statement(sql.statement()).all(&**tx).await?)
}
