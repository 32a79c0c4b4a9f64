//! `DealFilter`: typed operators on every deal field, custom fields, the rotten flag, the
//! deal's contacts (`contacts: { some, none }`), and `and`/`or`/`not`. Each renders to one SQL
//! condition on deals aliased `d`, every operand bound.

use async_graphql::InputObject;
use crm_entities::custom_fields::{CustomFieldFilter, Definitions};
use crm_entities::tenant::deal::DealStatus;
use crm_entities::tenant::pipeline_stage::StageKind;
use crm_platform::date::Date;
use crm_platform::filter::{DateTimeFilter, IdFilter, IntFilter, StringFilter, check_list};
use crm_platform::sql::{Sql, join};
use crm_platform::{ApiError, ApiResult};
use rust_decimal::Decimal;

/// Filters nest at most this deep.
const MAX_DEPTH: usize = 8;

/// The stage a deal is in, as a sub-select on deals aliased `d`.
const STAGE: &str = "(SELECT s.{column} FROM pipeline_stages s WHERE s.id = d.stage_id)";

/// The deal's win probability: its own, else its stage's default.
pub const PROBABILITY: &str =
    "coalesce(d.probability, (SELECT s.probability FROM pipeline_stages s WHERE s.id = d.stage_id))";

fn stage_column(column: &str) -> String {
    STAGE.replace("{column}", column)
}

/// An open deal whose stage has `rottenDays` and that has not changed for longer.
pub const ROTTEN: &str = "(d.status = 'open' AND EXISTS (SELECT 1 FROM pipeline_stages s WHERE s.id = d.stage_id \
     AND s.rotten_days IS NOT NULL AND d.updated_at < now() - make_interval(days => s.rotten_days)))";

/// Operators on an ordered value: a decimal amount or a calendar date.
#[derive(InputObject, Clone, Debug)]
#[graphql(concrete(name = "DecimalFilter", params(Decimal)))]
#[graphql(concrete(name = "DateFilter", params(Date)))]
pub struct OrderedFilter<T: async_graphql::InputType + Into<sea_orm::Value> + Clone> {
    pub eq: Option<T>,
    pub neq: Option<T>,
    pub lt: Option<T>,
    pub lte: Option<T>,
    pub gt: Option<T>,
    pub gte: Option<T>,
    pub is_null: Option<bool>,
}

impl<T: async_graphql::InputType + Into<sea_orm::Value> + Clone> OrderedFilter<T> {
    /// `expr operator value` for each operator given (values cast to `sql_type`), and the null check.
    fn conditions(&self, expr: &str, sql_type: &str) -> Vec<Sql> {
        let operators = [
            (&self.eq, "="),
            (&self.neq, "IS DISTINCT FROM"),
            (&self.lt, "<"),
            (&self.lte, "<="),
            (&self.gt, ">"),
            (&self.gte, ">="),
        ];
        let mut out = Vec::new();
        for (value, operator) in operators {
            if let Some(value) = value {
                let mut sql = Sql::new(expr);
                sql.push(" ").push(operator).push(" ").bind_as(value.clone(), sql_type);
                out.push(sql);
            }
        }
        if let Some(is_null) = self.is_null {
            out.push(Sql::new(&format!("{expr} IS {}NULL", if is_null { "" } else { "NOT " })));
        }
        out
    }
}

/// An enum stored as text that GraphQL inputs take.
pub trait StoredEnum: async_graphql::InputType + sea_orm::ActiveEnum<Value = String> + Copy {}

impl<T: async_graphql::InputType + sea_orm::ActiveEnum<Value = String> + Copy> StoredEnum for T {}

/// Operators on an enum stored as lowercase text.
#[derive(InputObject, Default, Clone, Debug)]
#[graphql(concrete(name = "DealStatusFilter", params(DealStatus)))]
#[graphql(concrete(name = "StageKindFilter", params(StageKind)))]
pub struct EnumFilter<T: StoredEnum> {
    pub eq: Option<T>,
    pub neq: Option<T>,
    #[graphql(name = "in")]
    pub one_of: Option<Vec<T>>,
    pub not_in: Option<Vec<T>>,
}

impl<T: StoredEnum> EnumFilter<T> {
    fn conditions(&self, expr: &str, field: &str) -> ApiResult<Vec<Sql>> {
        let mut out = Vec::new();
        for (value, operator) in [(self.eq, "="), (self.neq, "<>")] {
            if let Some(value) = value {
                let mut sql = Sql::new(expr);
                sql.push(" ").push(operator).push(" ").bind(sea_orm::ActiveEnum::to_value(&value));
                out.push(sql);
            }
        }
        for (values, negate) in [(&self.one_of, false), (&self.not_in, true)] {
            if let Some(values) = values {
                check_list(field, values)?;
                let stored: Vec<String> = values.iter().map(sea_orm::ActiveEnum::to_value).collect();
                let mut sql = Sql::new(if negate { "NOT (" } else { "(" });
                sql.push(expr).push(" = ANY(").bind_as(stored, "text[]").push("))");
                out.push(sql);
            }
        }
        Ok(out)
    }
}

/// Conditions on the contacts of a deal (and on the contact records themselves).
#[derive(InputObject, Default, Clone, Debug)]
pub struct DealContactFilter {
    pub contact_id: Option<IdFilter>,
    pub role: Option<StringFilter>,
    pub first_name: Option<StringFilter>,
    pub last_name: Option<StringFilter>,
    pub email: Option<StringFilter>,
}

/// At least one (`some`) or no (`none`) contact of the deal matches.
#[derive(InputObject, Default, Clone, Debug)]
pub struct DealContactsFilter {
    pub some: Option<DealContactFilter>,
    pub none: Option<DealContactFilter>,
}

impl DealContactFilter {
    fn to_sql(&self) -> ApiResult<Sql> {
        let mut parts = Vec::new();
        if let Some(f) = &self.contact_id {
            parts.extend(f.conditions("dc.contact_id", "contactId")?);
        }
        if let Some(f) = &self.role {
            parts.extend(f.conditions("dc.role", "role")?);
        }
        for (filter, column, field) in [
            (&self.first_name, "c.first_name", "firstName"),
            (&self.last_name, "c.last_name", "lastName"),
            (&self.email, "c.email", "email"),
        ] {
            if let Some(f) = filter {
                parts.extend(f.conditions(column, field)?);
            }
        }
        let mut sql = Sql::new(
            "EXISTS (SELECT 1 FROM deal_contacts dc JOIN contacts c ON c.id = dc.contact_id \
             WHERE dc.deal_id = d.id AND c.deleted_at IS NULL AND ",
        );
        sql.append(join(parts, "AND")).push(")");
        Ok(sql)
    }
}

#[derive(InputObject, Default, Clone, Debug)]
pub struct DealFilter {
    pub and: Option<Vec<DealFilter>>,
    pub or: Option<Vec<DealFilter>>,
    pub not: Option<Box<DealFilter>>,
    pub id: Option<IdFilter>,
    /// Substring of the title, as typed (case-insensitive with `contains`).
    pub title: Option<StringFilter>,
    pub amount: Option<OrderedFilter<Decimal>>,
    pub currency: Option<StringFilter>,
    pub expected_close_date: Option<OrderedFilter<Date>>,
    /// The deal's own probability, else its stage's default.
    pub probability: Option<IntFilter>,
    pub pipeline_id: Option<IdFilter>,
    pub stage_id: Option<IdFilter>,
    pub stage_kind: Option<EnumFilter<StageKind>>,
    pub status: Option<EnumFilter<DealStatus>>,
    pub owner_id: Option<IdFilter>,
    pub company_id: Option<IdFilter>,
    pub contacts: Option<DealContactsFilter>,
    pub created_at: Option<DateTimeFilter>,
    pub updated_at: Option<DateTimeFilter>,
    pub closed_at: Option<DateTimeFilter>,
    /// Open deals with no change for longer than their stage's `rottenDays` (or the others).
    pub rotten: Option<bool>,
    pub custom_fields: Option<Vec<CustomFieldFilter>>,
}

impl DealFilter {
    /// True when this filter or one nested in it names custom fields.
    pub fn names_custom_fields(&self) -> bool {
        self.custom_fields.is_some()
            || self.and.iter().flatten().chain(self.or.iter().flatten()).any(Self::names_custom_fields)
            || self.not.as_ref().is_some_and(|f| f.names_custom_fields())
    }

    /// The condition on deals aliased `d`.
    pub fn to_sql(&self, defs: &Definitions, depth: usize) -> ApiResult<Sql> {
        if depth > MAX_DEPTH {
            return Err(ApiError::bad_input(
                "filter",
                format!("filters nest at most {MAX_DEPTH} levels deep"),
            ));
        }
        let mut parts = Vec::new();
        for (filters, operator, field) in [(&self.and, "AND", "and"), (&self.or, "OR", "or")] {
            if let Some(filters) = filters {
                check_list(field, filters)?;
                let inner = filters.iter().map(|f| f.to_sql(defs, depth + 1)).collect::<ApiResult<_>>()?;
                parts.push(join(inner, operator));
            }
        }
        if let Some(filter) = &self.not {
            let mut sql = Sql::new("NOT coalesce(");
            sql.append(filter.to_sql(defs, depth + 1)?).push(", false)");
            parts.push(sql);
        }
        let ids = [
            (&self.id, "d.id", "id"),
            (&self.pipeline_id, "d.pipeline_id", "pipelineId"),
            (&self.stage_id, "d.stage_id", "stageId"),
            (&self.owner_id, "d.owner_id", "ownerId"),
            (&self.company_id, "d.company_id", "companyId"),
        ];
        for (filter, expr, field) in ids {
            if let Some(f) = filter {
                parts.extend(f.conditions(expr, field)?);
            }
        }
        for (filter, expr, field) in
            [(&self.title, "d.title", "title"), (&self.currency, "d.currency", "currency")]
        {
            if let Some(f) = filter {
                parts.extend(f.conditions(expr, field)?);
            }
        }
        if let Some(f) = &self.amount {
            parts.extend(f.conditions("d.amount", "numeric"));
        }
        if let Some(f) = &self.expected_close_date {
            parts.extend(f.conditions("d.expected_close_date", "date"));
        }
        if let Some(f) = &self.probability {
            parts.extend(f.conditions(PROBABILITY, "probability")?);
        }
        if let Some(f) = &self.stage_kind {
            parts.extend(f.conditions(&stage_column("kind"), "stageKind")?);
        }
        if let Some(f) = &self.status {
            parts.extend(f.conditions("d.status", "status")?);
        }
        for (filter, expr) in [
            (&self.created_at, "d.created_at"),
            (&self.updated_at, "d.updated_at"),
            (&self.closed_at, "d.closed_at"),
        ] {
            if let Some(f) = filter {
                parts.extend(f.conditions(expr));
            }
        }
        if let Some(rotten) = self.rotten {
            parts.push(Sql::new(&if rotten { ROTTEN.to_owned() } else { format!("NOT {ROTTEN}") }));
        }
        if let Some(contacts) = &self.contacts {
            if let Some(some) = &contacts.some {
                parts.push(some.to_sql()?);
            }
            if let Some(none) = &contacts.none {
                let mut sql = Sql::new("NOT ");
                sql.append(none.to_sql()?);
                parts.push(sql);
            }
        }
        if let Some(filters) = &self.custom_fields {
            check_list("customFields", filters)?;
            for f in filters {
                parts.extend(f.conditions(defs, "d.custom_fields")?);
            }
        }
        Ok(join(parts, "AND"))
    }
}
