//! `dealAnalytics`: the aggregates of `crate::analytics`, shaped per stage, month, currency and
//! owner. Stages come in pipeline order, each listed even when nothing counts there.

use async_graphql::{Context, SimpleObject};
use crm_entities::ids::PipelineId;
use crm_entities::tenant::{pipeline, pipeline_stage};
use crm_platform::date::Date;
use crm_platform::user_ref::UserRef;
use crm_platform::{ApiResult, Caller};
use rust_decimal::Decimal;

use super::types::{Pipeline, Stage};
use crate::analytics::{self, Scope};
use crate::pipelines::stages::stages_of;

/// A sum in one currency (amounts are never added across currencies).
#[derive(SimpleObject)]
pub struct CurrencyAmount {
    pub currency: String,
    pub amount: Decimal,
    /// Each deal's amount times its win probability, summed.
    pub weighted_amount: Decimal,
}

/// A plain sum in one currency.
#[derive(SimpleObject)]
pub struct CurrencyTotal {
    pub currency: String,
    pub amount: Decimal,
}

#[derive(SimpleObject)]
pub struct StageSummary {
    pub stage: Stage,
    /// Live deals created in the period that are in this stage now.
    pub count: i64,
    pub amounts: Vec<CurrencyAmount>,
}

#[derive(SimpleObject)]
pub struct ForecastMonth {
    /// `YYYY-MM` of the expected close date.
    pub month: String,
    pub count: i64,
    pub amounts: Vec<CurrencyAmount>,
}

#[derive(SimpleObject)]
pub struct CurrencyWinRate {
    pub currency: String,
    pub won_amount: Decimal,
    pub closed_amount: Decimal,
    /// Won amount over closed amount; null when nothing with an amount closed.
    pub rate: Option<f64>,
}

/// Deals closed in the period.
#[derive(SimpleObject)]
pub struct WinRate {
    pub won: i64,
    pub lost: i64,
    /// Won over closed; null when none closed.
    pub by_count: Option<f64>,
    pub by_amount: Vec<CurrencyWinRate>,
}

/// Days from creation to closing of the deals won in the period.
#[derive(SimpleObject)]
pub struct SalesCycle {
    pub deals: i64,
    pub average_days: Option<f64>,
    pub median_days: Option<f64>,
}

/// Of the deals that entered a stage in the period, how many went on to a later stage.
#[derive(SimpleObject)]
pub struct StageConversion {
    pub stage: Stage,
    pub entered: i64,
    pub advanced: i64,
    /// Advanced over entered; null when none entered.
    pub rate: Option<f64>,
}

/// How long deals stayed in a stage, over the moves out of it made in the period.
#[derive(SimpleObject)]
pub struct TimeInStage {
    pub stage: Stage,
    pub exits: i64,
    pub average_seconds: Option<f64>,
    pub median_seconds: Option<f64>,
}

#[derive(SimpleObject)]
pub struct OwnerSummary {
    /// Null for deals without an owner.
    pub owner: Option<UserRef>,
    /// Open now.
    pub open: i64,
    /// Won and lost in the period.
    pub won: i64,
    pub lost: i64,
    pub win_rate: Option<f64>,
    pub won_amounts: Vec<CurrencyTotal>,
}

#[derive(SimpleObject)]
pub struct DealAnalytics {
    pub pipeline: Pipeline,
    pub from: Option<Date>,
    pub to: Option<Date>,
    pub by_stage: Vec<StageSummary>,
    pub forecast: Vec<ForecastMonth>,
    pub win_rate: WinRate,
    pub sales_cycle: SalesCycle,
    pub stage_conversion: Vec<StageConversion>,
    pub time_in_stage: Vec<TimeInStage>,
    pub per_owner: Vec<OwnerSummary>,
}

/// Money with two decimals, however the sum came back.
fn cents(amount: Option<Decimal>) -> Decimal {
    let mut amount = amount.unwrap_or_default();
    amount.rescale(2);
    amount
}

fn ratio(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

fn amount_ratio(part: Decimal, whole: Decimal) -> Option<f64> {
    use rust_decimal::prelude::ToPrimitive;
    (!whole.is_zero()).then(|| (part / whole).to_f64()).flatten()
}

pub async fn load(ctx: &Context<'_>, pipeline: pipeline::Model, scope: Scope) -> ApiResult<DealAnalytics> {
    let caller = Caller::of(ctx)?;
    let tx = caller.tx().await?;
    let stages = stages_of(&tx, PipelineId(pipeline.id)).await?;
    let by_stage = analytics::by_stage(&tx, &scope).await?;
    let months = analytics::forecast(&tx, &scope).await?;
    let outcomes = analytics::outcomes(&tx, &scope).await?;
    let cycle = analytics::sales_cycle(&tx, &scope).await?;
    let conversion = analytics::stage_conversion(&tx, &scope).await?;
    let dwell = analytics::time_in_stage(&tx, &scope).await?;
    tx.commit().await?;

    let per_stage = |stage: &pipeline_stage::Model| {
        let rows: Vec<_> = by_stage.iter().filter(|r| r.stage_id == stage.id).collect();
        StageSummary {
            stage: Stage(stage.clone()),
            count: rows.iter().map(|r| r.count).sum(),
            amounts: rows
                .iter()
                .filter_map(|r| {
                    Some(CurrencyAmount {
                        currency: r.currency.clone()?,
                        amount: cents(r.amount),
                        weighted_amount: cents(r.weighted),
                    })
                })
                .collect(),
        }
    };
    let mut forecast: Vec<ForecastMonth> = Vec::new();
    for row in months {
        let amount = CurrencyAmount {
            currency: row.currency,
            amount: cents(row.amount),
            weighted_amount: cents(row.weighted),
        };
        match forecast.last_mut() {
            Some(month) if month.month == row.month => {
                month.count += row.count;
                month.amounts.push(amount);
            }
            _ => forecast.push(ForecastMonth { month: row.month, count: row.count, amounts: vec![amount] }),
        }
    }
    let total = outcomes.iter().find(|r| r.all_owners && r.all_currencies);
    let (won, lost) = total.map_or((0, 0), |t| (t.won, t.lost));
    let by_amount = outcomes
        .iter()
        .filter(|r| r.all_owners && !r.all_currencies)
        .filter_map(|r| {
            let (won_amount, closed_amount) = (cents(r.won_amount), cents(r.closed_amount));
            Some(CurrencyWinRate {
                currency: r.currency.clone()?,
                won_amount,
                closed_amount,
                rate: amount_ratio(won_amount, closed_amount),
            })
        })
        .filter(|r| !r.closed_amount.is_zero())
        .collect();
    let per_owner = outcomes
        .iter()
        .filter(|r| !r.all_owners && r.all_currencies)
        .map(|owner| OwnerSummary {
            owner: UserRef::of(owner.owner_id),
            open: owner.open,
            won: owner.won,
            lost: owner.lost,
            win_rate: ratio(owner.won, owner.won + owner.lost),
            won_amounts: outcomes
                .iter()
                .filter(|r| !r.all_owners && !r.all_currencies && r.owner_id == owner.owner_id)
                .filter_map(|r| {
                    Some(CurrencyTotal { currency: r.currency.clone()?, amount: cents(Some(r.won_amount?)) })
                })
                .collect(),
        })
        .collect();
    let stage_conversion = stages
        .iter()
        .map(|stage| {
            let row = conversion.iter().find(|r| r.stage_id == stage.id);
            let (entered, advanced) = row.map_or((0, 0), |r| (r.entered, r.advanced));
            StageConversion { stage: Stage(stage.clone()), entered, advanced, rate: ratio(advanced, entered) }
        })
        .collect();
    let time_in_stage = stages
        .iter()
        .map(|stage| {
            let row = dwell.iter().find(|r| r.stage_id == stage.id);
            TimeInStage {
                stage: Stage(stage.clone()),
                exits: row.map_or(0, |r| r.exits),
                average_seconds: row.and_then(|r| r.average_seconds),
                median_seconds: row.and_then(|r| r.median_seconds),
            }
        })
        .collect();
    Ok(DealAnalytics {
        pipeline: Pipeline(pipeline),
        from: scope.from.map(Date),
        to: scope.to.map(Date),
        by_stage: stages.iter().map(per_stage).collect(),
        forecast,
        win_rate: WinRate { won, lost, by_count: ratio(won, won + lost), by_amount },
        sales_cycle: SalesCycle {
            deals: cycle.deals,
            average_days: cycle.average_days,
            median_days: cycle.median_days,
        },
        stage_conversion,
        time_in_stage,
        per_owner,
    })
}
