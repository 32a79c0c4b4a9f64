//! Deal analytics of one pipeline, summed from the roll-ups that triggers keep beside the deals
//! and their stage history (migration `deal_rollups`), so a request reads a few thousand
//! roll-up rows whatever the number of deals, and never loops over rows here. Trashed deals
//! count nowhere. Amounts are summed per currency and never mixed. The period (`from`, `to`,
//! whole UTC days, both optional) selects:
//! - by stage: live deals created in the period, by the stage they are in now;
//! - forecast: open deals expected to close in the period, by month of expected close;
//! - win rate, sales cycle, per owner (won and lost): deals closed in the period;
//! - stage conversion: the deals that first entered a stage in the period;
//! - time in stage: stage changes made in the period.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use crm_entities::ids::PipelineId;
use crm_platform::ids::UserId;
use crm_platform::sql::Sql;
use crm_platform::{ApiResult, TenantTx};
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, FromQueryResult};
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

    /// Roll-up rows (aliased `r`, joined to their stage `s`) of the pipeline and owner whose
    /// `day` column falls within the period.
    fn rollups(&self, day: &str) -> Sql {
        let mut sql = Sql::new("s.pipeline_id = ");
        sql.bind(self.pipeline.0);
        if let Some(owner) = self.owner {
            sql.push(" AND r.owner_id = ").bind(owner.0);
        }
        if let Some(from) = self.from {
            sql.push(&format!(" AND r.{day} >= ")).bind(from);
        }
        if let Some(to) = self.to {
            sql.push(&format!(" AND r.{day} <= ")).bind(to);
        }
        sql
    }

    /// Live deals (of the owner), aliased `d`, wherever they are now.
    fn live_deals(&self) -> Sql {
        let mut sql = Sql::new("d.deleted_at IS NULL");
        if let Some(owner) = self.owner {
            sql.push(" AND d.owner_id = ").bind(owner.0);
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

/// Sums of a roll-up's `amount` and weighted amount (the deals' own probabilities, or their
/// stage's), NULL where no deal has an amount.
const AMOUNTS: &str = "CASE WHEN sum(r.priced) > 0 THEN sum(r.amount) END AS amount,
     CASE WHEN sum(r.priced) > 0 THEN round(sum(r.own_weighted + r.stage_weighted * s.probability) / 100, 2) END
         AS weighted";

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
        "SELECT r.stage_id, r.currency::text AS currency, sum(r.deals)::int8 AS count, {AMOUNTS}
         FROM deal_rollup_stock r JOIN pipeline_stages s ON s.id = r.stage_id WHERE "
    ));
    sql.append(scope.rollups("created_on"));
    sql.push(" GROUP BY r.stage_id, r.currency HAVING sum(r.deals) > 0 ORDER BY r.stage_id, r.currency");
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
        "SELECT to_char(r.expected_on, 'YYYY-MM') AS month, r.currency::text AS currency,
                sum(r.deals)::int8 AS count, {AMOUNTS}
         FROM deal_rollup_forecast r JOIN pipeline_stages s ON s.id = r.stage_id WHERE "
    ));
    sql.append(scope.rollups("expected_on"));
    sql.push(" GROUP BY 1, r.currency HAVING sum(r.deals) > 0 ORDER BY 1, r.currency");
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
    let open = Scope { from: None, to: None, ..*scope };
    let mut sql = Sql::new(
        "WITH facts AS (
             SELECT r.owner_id, r.currency, r.status, r.deals, r.priced, r.amount
             FROM deal_rollup_closed r JOIN pipeline_stages s ON s.id = r.stage_id WHERE ",
    );
    sql.append(scope.rollups("closed_on"));
    sql.push(
        " UNION ALL
             SELECT r.owner_id, r.currency, r.status, r.deals, r.priced, r.amount
             FROM deal_rollup_stock r JOIN pipeline_stages s ON s.id = r.stage_id
             WHERE r.status = 'open' AND ",
    );
    sql.append(open.rollups("created_on"));
    sql.push(
        ")
         SELECT f.owner_id, f.currency::text AS currency, GROUPING(f.owner_id) = 1 AS all_owners,
                GROUPING(f.currency) = 1 AS all_currencies,
                coalesce(sum(f.deals) FILTER (WHERE f.status = 'won'), 0)::int8 AS won,
                coalesce(sum(f.deals) FILTER (WHERE f.status = 'lost'), 0)::int8 AS lost,
                CASE WHEN sum(f.priced) FILTER (WHERE f.status = 'won') > 0
                     THEN sum(f.amount) FILTER (WHERE f.status = 'won') END AS won_amount,
                CASE WHEN sum(f.priced) FILTER (WHERE f.status <> 'open') > 0
                     THEN sum(f.amount) FILTER (WHERE f.status <> 'open') END AS closed_amount,
                coalesce(sum(f.deals) FILTER (WHERE f.status = 'open'), 0)::int8 AS open
         FROM facts f
         GROUP BY GROUPING SETS ((f.owner_id, f.currency), (f.owner_id), (f.currency), ())
         HAVING sum(f.deals) > 0
         ORDER BY f.owner_id NULLS LAST, f.currency NULLS FIRST",
    );
    Ok(OutcomeRow::find_by_statement(sql.statement()).all(&**tx).await?)
}

pub struct CycleRow {
    pub deals: i64,
    pub average_days: Option<f64>,
    pub median_days: Option<f64>,
}

#[derive(FromQueryResult)]
struct Durations {
    key: Uuid,
    count: i64,
    average: Option<f64>,
}

const DAY: f64 = 86_400.0;

/// Days from creation to closing of the deals won in the period.
pub async fn sales_cycle(tx: &TenantTx, scope: &Scope) -> ApiResult<CycleRow> {
    // One histogram for the whole pipeline, keyed by its id.
    let histogram = || {
        let mut sql = Sql::new("SELECT s.pipeline_id AS key, r.bucket, r.deals AS n, r.seconds AS s1, r.seconds_squared AS s2
             FROM deal_rollup_closed r JOIN pipeline_stages s ON s.id = r.stage_id WHERE r.status = 'won' AND ");
        sql.append(scope.rollups("closed_on"));
        sql
    };
    let members = |_: Uuid, bucket: i32| {
        let mut sql = Sql::new(
            "SELECT extract(epoch FROM d.closed_at - d.created_at)::float8 AS value FROM deals d
             WHERE d.status = 'won' AND ",
        );
        sql.append(scope.deals()).push(" AND ").append(scope.within("d.closed_at"));
        sql.push(" AND deal_duration_bucket(extract(epoch FROM d.closed_at - d.created_at)) = ").bind(bucket);
        sql.push(" ORDER BY value");
        sql
    };
    let totals = durations(tx, histogram()).await?;
    let medians = medians(tx, histogram(), members).await?;
    let total = totals.first();
    Ok(CycleRow {
        deals: total.map_or(0, |t| t.count),
        average_days: total.and_then(|t| t.average).map(|seconds| seconds / DAY),
        median_days: medians.get(&scope.pipeline.0).map(|seconds| seconds / DAY),
    })
}

/// Count and average duration per key of a histogram of `key, bucket, n, s1, s2` rows.
async fn durations(tx: &TenantTx, histogram: Sql) -> ApiResult<Vec<Durations>> {
    let mut sql =
        Sql::new("SELECT h.key, sum(h.n)::int8 AS count, (sum(h.s1) / sum(h.n))::float8 AS average FROM (");
    sql.append(histogram).push(") h GROUP BY h.key HAVING sum(h.n) > 0");
    Ok(Durations::find_by_statement(sql.statement()).all(&**tx).await?)
}

#[derive(FromQueryResult)]
struct Middle {
    key: Uuid,
    rank: i64,
    bucket: i32,
    /// Members in the buckets before this one.
    before: i64,
    /// The bucket's duration when all its members have the same.
    value: Option<f64>,
}

/// The median duration per key of a histogram of `key, bucket, n` (members), `s1` (sum of
/// durations) and `s2` (sum of squares) rows. The one or two middle ranks are found in their
/// buckets; a bucket whose members all have one duration (n·s2 = s1²) gives it, else its
/// members (`members(key, bucket)`, ordered by `value`) are read up to the rank.
async fn medians(
    tx: &TenantTx,
    histogram: Sql,
    members: impl Fn(Uuid, i32) -> Sql,
) -> ApiResult<HashMap<Uuid, f64>> {
    let mut sql = Sql::new("WITH h AS (SELECT key, bucket, sum(n) AS n, sum(s1) AS s1, sum(s2) AS s2 FROM (");
    sql.append(histogram);
    sql.push(
        ") r GROUP BY key, bucket HAVING sum(n) > 0),
         c AS (SELECT h.*, sum(n) OVER (PARTITION BY key ORDER BY bucket) AS upto,
                      sum(n) OVER (PARTITION BY key) AS total FROM h),
         ranks AS (SELECT DISTINCT c.key, m.rank FROM c,
                   LATERAL (VALUES (floor((c.total + 1) / 2)), (floor(c.total / 2) + 1)) AS m(rank))
         SELECT ranks.key, ranks.rank::int8 AS rank, c.bucket, (c.upto - c.n)::int8 AS before,
                CASE WHEN c.n * c.s2 = c.s1 * c.s1 THEN (c.s1 / c.n)::float8 END AS value
         FROM ranks JOIN c ON c.key = ranks.key AND ranks.rank > c.upto - c.n AND ranks.rank <= c.upto",
    );
    let middles = Middle::find_by_statement(sql.statement()).all(&**tx).await?;
    let mut found: HashMap<Uuid, Vec<f64>> = HashMap::new();
    for middle in middles {
        let value = match middle.value {
            Some(value) => value,
            None => {
                let mut sql = members(middle.key, middle.bucket);
                sql.push(" OFFSET ").bind(middle.rank - middle.before - 1).push(" LIMIT 1");
                let row = tx.query_one(sql.statement()).await?;
                let Some(row) = row else { continue };
                row.try_get::<f64>("", "value")?
            }
        };
        found.entry(middle.key).or_default().push(value);
    }
    Ok(found
        .into_iter()
        .map(|(key, values)| (key, values.iter().sum::<f64>() / values.len() as f64))
        .collect())
}

#[derive(FromQueryResult)]
pub struct ConversionRow {
    pub stage_id: Uuid,
    pub entered: i64,
    pub advanced: i64,
}

/// Per stage: the deals that first entered it in the period, and how many of them went on
/// afterwards to a later stage of the pipeline that is not a LOST one (moving back and forth
/// counts a deal once; being lost is not going on).
pub async fn stage_conversion(tx: &TenantTx, scope: &Scope) -> ApiResult<Vec<ConversionRow>> {
    let mut sql = Sql::new(
        "SELECT r.stage_id, sum(r.entered)::int8 AS entered, sum(r.advanced)::int8 AS advanced
         FROM deal_rollup_reach r JOIN pipeline_stages s ON s.id = r.stage_id WHERE ",
    );
    sql.append(scope.rollups("entered_on")).push(" GROUP BY r.stage_id HAVING sum(r.entered) > 0");
    Ok(ConversionRow::find_by_statement(sql.statement()).all(&**tx).await?)
}

pub struct DwellRow {
    pub stage_id: Uuid,
    pub exits: i64,
    pub average_seconds: Option<f64>,
    pub median_seconds: Option<f64>,
}

/// Per stage: how long deals stayed in it, over the moves out of it made in the period.
pub async fn time_in_stage(tx: &TenantTx, scope: &Scope) -> ApiResult<Vec<DwellRow>> {
    let histogram = || {
        let mut sql = Sql::new(
            "SELECT r.stage_id AS key, r.bucket, r.exits AS n, r.seconds AS s1, r.seconds_squared AS s2
             FROM deal_rollup_dwell r JOIN pipeline_stages s ON s.id = r.stage_id WHERE ",
        );
        sql.append(scope.rollups("left_on"));
        sql
    };
    let members = |stage: Uuid, bucket: i32| {
        let mut sql = Sql::new(
            "SELECT extract(epoch FROM h.changed_at - h.from_entered_at)::float8 AS value
             FROM deal_stage_changes h JOIN deals d ON d.id = h.deal_id
             WHERE h.from_entered_at IS NOT NULL AND h.from_stage_id = ",
        );
        sql.bind(stage)
            .push(" AND deal_duration_bucket(extract(epoch FROM h.changed_at - h.from_entered_at)) = ");
        sql.bind(bucket).push(" AND ").append(scope.live_deals());
        sql.push(" AND ").append(scope.within("h.changed_at")).push(" ORDER BY value");
        sql
    };
    let totals = durations(tx, histogram()).await?;
    let medians = medians(tx, histogram(), members).await?;
    Ok(totals
        .into_iter()
        .map(|t| DwellRow {
            stage_id: t.key,
            exits: t.count,
            average_seconds: t.average,
            median_seconds: medians.get(&t.key).copied(),
        })
        .collect())
}
