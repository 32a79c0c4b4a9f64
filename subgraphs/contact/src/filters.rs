//! `ContactFilter` and `CompanyFilter`: typed operators per field, custom fields, full-text
//! search, `and`/`or`/`not`, and relation filters in both directions (a contact's company, a
//! company's contacts and parent). Each renders to one SQL condition with every operand bound.

use async_graphql::InputObject;
use crm_entities::custom_fields::{CustomFieldFilter, Definitions};
use crm_entities::tenant::contact::LifecycleStage;
use crm_entities::tenant::custom_field_definition::CustomFieldObject;
use crm_platform::filter::{
    DateTimeFilter, IdFilter, IntFilter, StringFilter, TagsFilter, check_list, check_text,
};
use crm_platform::sql::{Sql, join, like_literal};
use crm_platform::{ApiError, ApiResult};

/// Filters nest at most this deep (and/or/not and relations together).
const MAX_DEPTH: usize = 8;
/// Below this word similarity a search term does not match (pg_trgm, 0..1). Low enough that one
/// typo in a short name ("jonh") still finds it; ranking puts closer matches first.
pub const SEARCH_THRESHOLD: &str = "0.3";

/// Operators on a contact's lifecycle stage.
#[derive(InputObject, Default, Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct LifecycleStageFilter {
    pub eq: Option<LifecycleStage>,
    pub neq: Option<LifecycleStage>,
    #[graphql(name = "in")]
    pub one_of: Option<Vec<LifecycleStage>>,
    pub not_in: Option<Vec<LifecycleStage>>,
}

#[derive(InputObject, Default, Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ContactFilter {
    pub and: Option<Vec<ContactFilter>>,
    pub or: Option<Vec<ContactFilter>>,
    pub not: Option<Box<ContactFilter>>,
    pub id: Option<IdFilter>,
    pub first_name: Option<StringFilter>,
    pub last_name: Option<StringFilter>,
    /// The primary email.
    pub email: Option<StringFilter>,
    /// Any of the contact's emails, primary or additional.
    pub any_email: Option<StringFilter>,
    pub phone: Option<StringFilter>,
    pub job_title: Option<StringFilter>,
    pub source: Option<StringFilter>,
    pub company_id: Option<IdFilter>,
    pub owner_id: Option<IdFilter>,
    pub tags: Option<TagsFilter>,
    pub lifecycle_stage: Option<LifecycleStageFilter>,
    pub created_at: Option<DateTimeFilter>,
    pub updated_at: Option<DateTimeFilter>,
    /// Typo-tolerant text search over names, emails, phones, job title, notes and company name.
    pub search: Option<String>,
    pub custom_fields: Option<Vec<CustomFieldFilter>>,
    /// Contacts whose company matches.
    pub company: Option<Box<CompanyFilter>>,
}

/// Conditions on a company's contacts.
#[derive(InputObject, Default, Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ContactRelationFilter {
    /// At least one live contact matches.
    pub some: Option<Box<ContactFilter>>,
    /// No live contact matches.
    pub none: Option<Box<ContactFilter>>,
}

#[derive(InputObject, Default, Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct CompanyFilter {
    pub and: Option<Vec<CompanyFilter>>,
    pub or: Option<Vec<CompanyFilter>>,
    pub not: Option<Box<CompanyFilter>>,
    pub id: Option<IdFilter>,
    pub name: Option<StringFilter>,
    pub domain: Option<StringFilter>,
    pub industry: Option<StringFilter>,
    pub size: Option<IntFilter>,
    pub website: Option<StringFilter>,
    pub owner_id: Option<IdFilter>,
    pub parent_id: Option<IdFilter>,
    pub created_at: Option<DateTimeFilter>,
    pub updated_at: Option<DateTimeFilter>,
    /// Typo-tolerant search over name and domain.
    pub search: Option<String>,
    pub custom_fields: Option<Vec<CustomFieldFilter>>,
    pub contacts: Option<ContactRelationFilter>,
    /// Companies whose parent matches.
    pub parent: Option<Box<CompanyFilter>>,
}

pub use crm_platform::paging::SortDirection;

/// Custom field definitions a filter may name, fresh table aliases for nested queries, and how
/// contact searches match: as substrings (`fuzzy: false`) or by word similarity, for when no
/// contact holds the text as it was typed.
pub struct Scope {
    pub contact_fields: Definitions,
    pub company_fields: Definitions,
    pub fuzzy: bool,
    next_alias: usize,
}

impl Scope {
    pub fn new(contact_fields: Definitions, company_fields: Definitions) -> Self {
        Self { contact_fields, company_fields, fuzzy: false, next_alias: 0 }
    }

    /// A scope for filters that name no custom fields.
    pub fn without_fields() -> Self {
        Self::new(
            Definitions { object: CustomFieldObject::Contact, fields: Vec::new() },
            Definitions { object: CustomFieldObject::Company, fields: Vec::new() },
        )
    }

    fn alias(&mut self, prefix: &str) -> String {
        self.next_alias += 1;
        format!("{prefix}{}", self.next_alias)
    }
}

fn depth_check(depth: usize) -> ApiResult<()> {
    if depth > MAX_DEPTH {
        return Err(ApiError::bad_input("filter", format!("filters nest at most {MAX_DEPTH} levels deep")));
    }
    Ok(())
}

/// A normalized search text, or BAD_USER_INPUT.
pub fn search_text(raw: &str) -> ApiResult<Option<String>> {
    check_text("search", raw)?;
    let text = raw.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    Ok((!text.is_empty()).then_some(text))
}

/// `expr` (lowercase text) holds `text` as a substring, or (fuzzy) is similar to it by words.
/// Both use the trigram index.
fn text_match(expr: &str, text: &str, fuzzy: bool) -> Sql {
    let mut sql = Sql::new("(");
    if fuzzy {
        sql.bind(text.to_owned()).push(" OPERATOR(extensions.<%) ").push(expr);
    } else {
        sql.push(expr).push(" LIKE ").bind(format!("%{}%", like_literal(text)));
    }
    sql.push(")");
    sql
}

/// At most this many words of a search are compared by similarity; later ones are left out.
const MAX_FUZZY_WORDS: usize = 4;

/// The words of a search that similarity compares, each with a name.
fn fuzzy_words(text: &str) -> impl Iterator<Item = &str> {
    text.split(' ').take(MAX_FUZZY_WORDS)
}

/// The tenant's names similar to `word` (from `contact_name_parts`: its distinct first and last
/// names, trigram indexed), in order, or (`scores`) how similar each of them is, in the same
/// order. Both are computed once per statement.
fn similar_names(word: &str, scores: bool) -> Sql {
    let mut sql =
        Sql::new(if scores { "ARRAY(SELECT extensions.word_similarity(" } else { "ARRAY(SELECT p.part" });
    if scores {
        sql.bind(word.to_owned()).push(", p.part)");
    }
    sql.push(" FROM contact_name_parts p WHERE ").bind(word.to_owned());
    sql.push(" OPERATOR(extensions.<%) p.part ORDER BY p.part)");
    sql
}

/// Every word of `text` is similar to the first or the last name of the contact aliased `c`;
/// the contacts bearing the similar names are found through the name indexes.
fn fuzzy_name_match(c: &str, text: &str) -> Sql {
    let words = fuzzy_words(text).map(|word| {
        let similar = |column: &str| {
            let mut sql = Sql::new(&format!("lower({c}.{column}) = ANY("));
            sql.append(similar_names(word, false)).push(")");
            sql
        };
        join(vec![similar("first_name"), similar("last_name")], "OR")
    });
    join(words.collect(), "AND")
}

/// How well a contact row matches `text` (higher is better). Substring matches rank by how
/// early the text appears (names come first in `search_text`); fuzzy matches by how similar
/// each word is to the first or the last name, looked up among the similar names rather than
/// computed for every row.
pub fn contact_rank(alias: &str, text: &str, fuzzy: bool) -> Sql {
    let mut sql = Sql::new("");
    if fuzzy {
        let words: Vec<&str> = fuzzy_words(text).collect();
        sql.push("(");
        for (n, word) in words.iter().enumerate() {
            sql.push(if n > 0 { " + greatest(" } else { "greatest(" });
            for (i, column) in ["first_name", "last_name"].into_iter().enumerate() {
                sql.push(if i > 0 { ", coalesce((" } else { "coalesce((" });
                sql.append(similar_names(word, true)).push(")[array_position(");
                sql.append(similar_names(word, false)).push(&format!(", lower({alias}.{column}))], 0)"));
            }
            sql.push(")");
        }
        sql.push(&format!(") / {}", words.len().max(1)));
    } else {
        sql.push(&format!("CASE WHEN strpos({alias}.search_text, ")).bind(text.to_owned());
        sql.push(&format!(") > 0 THEN 1.0 / strpos({alias}.search_text, ")).bind(text.to_owned());
        sql.push(") ELSE 0.001 END");
    }
    sql
}

impl ContactFilter {
    /// True when this filter or one nested in it names custom fields.
    pub fn names_custom_fields(&self) -> bool {
        self.custom_fields.is_some()
            || self.and.iter().flatten().chain(self.or.iter().flatten()).any(Self::names_custom_fields)
            || self.not.as_ref().is_some_and(|f| f.names_custom_fields())
            || self.company.as_ref().is_some_and(|f| f.names_custom_fields())
    }

    /// The condition on contact rows aliased `c`.
    pub fn to_sql(&self, scope: &mut Scope, c: &str, depth: usize) -> ApiResult<Sql> {
        depth_check(depth)?;
        let mut parts = Vec::new();
        if let Some(filters) = &self.and {
            check_list("and", filters)?;
            let inner = filters.iter().map(|f| f.to_sql(scope, c, depth + 1)).collect::<ApiResult<_>>()?;
            parts.push(join(inner, "AND"));
        }
        if let Some(filters) = &self.or {
            check_list("or", filters)?;
            let inner = filters.iter().map(|f| f.to_sql(scope, c, depth + 1)).collect::<ApiResult<_>>()?;
            parts.push(join(inner, "OR"));
        }
        if let Some(filter) = &self.not {
            let mut sql = Sql::new("NOT coalesce(");
            sql.append(filter.to_sql(scope, c, depth + 1)?).push(", false)");
            parts.push(sql);
        }
        if let Some(f) = &self.id {
            parts.extend(f.conditions(&format!("{c}.id"), "id")?);
        }
        let texts = [
            (&self.first_name, "first_name", "firstName"),
            (&self.last_name, "last_name", "lastName"),
            (&self.email, "email", "email"),
            (&self.phone, "phone", "phone"),
            (&self.job_title, "job_title", "jobTitle"),
            (&self.source, "source", "source"),
        ];
        for (filter, column, field) in texts {
            if let Some(f) = filter {
                parts.extend(f.conditions(&format!("{c}.{column}"), field)?);
            }
        }
        if let Some(f) = &self.any_email {
            let conditions = f.conditions("e.email", "anyEmail")?;
            let mut sql = Sql::new(&format!(
                "EXISTS (SELECT 1 FROM unnest(array_prepend({c}.email, {c}.additional_emails)) AS e(email) WHERE "
            ));
            sql.append(join(conditions, "AND")).push(")");
            parts.push(sql);
        }
        if let Some(f) = &self.company_id {
            parts.extend(f.conditions(&format!("{c}.company_id"), "companyId")?);
        }
        if let Some(f) = &self.owner_id {
            parts.extend(f.conditions(&format!("{c}.owner_id"), "ownerId")?);
        }
        if let Some(f) = &self.tags {
            parts.extend(f.conditions(&format!("{c}.tags"), "tags")?);
        }
        if let Some(f) = &self.lifecycle_stage {
            parts.extend(stage_conditions(f, &format!("{c}.lifecycle_stage"))?);
        }
        if let Some(f) = &self.created_at {
            parts.extend(f.conditions(&format!("{c}.created_at")));
        }
        if let Some(f) = &self.updated_at {
            parts.extend(f.conditions(&format!("{c}.updated_at")));
        }
        if let Some(text) = self.search.as_deref().map(search_text).transpose()?.flatten() {
            // As typed, anywhere in the contact; failing that, similar to the names (a typo).
            let mut sql = Sql::new("(");
            if scope.fuzzy {
                sql.append(fuzzy_name_match(c, &text));
            } else {
                sql.append(text_match(&format!("{c}.search_text"), &text, false));
            }
            sql.push(&format!(
                " OR {c}.company_id = ANY(ARRAY(SELECT co.id FROM companies co WHERE co.deleted_at IS NULL AND "
            ));
            // Company names as typed only: a short typo is similar to every "Co…" name.
            sql.append(text_match("lower(co.name)", &text, false)).push(")))");
            parts.push(sql);
        }
        if let Some(filters) = &self.custom_fields {
            check_list("customFields", filters)?;
            for f in filters {
                parts.extend(f.conditions(&scope.contact_fields, &format!("{c}.custom_fields"))?);
            }
        }
        if let Some(filter) = &self.company {
            let co = scope.alias("co");
            // Among the top-level conditions, a semi-join: the planner estimates how many
            // contacts it keeps from the companies' statistics, and may walk an index in sort
            // order checking each contact's company. Nested in or/not, where no join can be
            // made, an uncorrelated array it can combine with other index conditions.
            let (open, close) = if depth == 0 { ("IN (", ")") } else { ("= ANY(ARRAY(", "))") };
            let mut sql = Sql::new(&format!(
                "{c}.company_id {open}SELECT {co}.id FROM companies {co} WHERE {co}.deleted_at IS NULL AND "
            ));
            sql.append(filter.to_sql(scope, &co, depth + 1)?).push(close);
            parts.push(sql);
        }
        Ok(join(parts, "AND"))
    }
}

fn stage_conditions(f: &LifecycleStageFilter, expr: &str) -> ApiResult<Vec<Sql>> {
    use sea_orm::ActiveEnum;
    let mut out = Vec::new();
    for (value, operator) in [(f.eq, "="), (f.neq, "<>")] {
        if let Some(stage) = value {
            let mut sql = Sql::new(expr);
            sql.push(" ").push(operator).push(" ").bind(stage.to_value());
            out.push(sql);
        }
    }
    for (values, negate) in [(&f.one_of, false), (&f.not_in, true)] {
        if let Some(stages) = values {
            check_list("lifecycleStage", stages)?;
            let stored: Vec<String> = stages.iter().map(ActiveEnum::to_value).collect();
            let mut sql = Sql::new(if negate { "NOT (" } else { "(" });
            sql.push(expr).push(" = ANY(").bind_as(stored, "text[]").push("))");
            out.push(sql);
        }
    }
    Ok(out)
}

impl CompanyFilter {
    pub fn names_custom_fields(&self) -> bool {
        self.custom_fields.is_some()
            || self.and.iter().flatten().chain(self.or.iter().flatten()).any(Self::names_custom_fields)
            || self.not.as_ref().is_some_and(|f| f.names_custom_fields())
            || self.parent.as_ref().is_some_and(|f| f.names_custom_fields())
            || self
                .contacts
                .as_ref()
                .is_some_and(|r| r.some.iter().chain(r.none.iter()).any(|f| f.names_custom_fields()))
    }

    /// The condition on company rows aliased `co`.
    pub fn to_sql(&self, scope: &mut Scope, co: &str, depth: usize) -> ApiResult<Sql> {
        depth_check(depth)?;
        let mut parts = Vec::new();
        if let Some(filters) = &self.and {
            check_list("and", filters)?;
            let inner = filters.iter().map(|f| f.to_sql(scope, co, depth + 1)).collect::<ApiResult<_>>()?;
            parts.push(join(inner, "AND"));
        }
        if let Some(filters) = &self.or {
            check_list("or", filters)?;
            let inner = filters.iter().map(|f| f.to_sql(scope, co, depth + 1)).collect::<ApiResult<_>>()?;
            parts.push(join(inner, "OR"));
        }
        if let Some(filter) = &self.not {
            let mut sql = Sql::new("NOT coalesce(");
            sql.append(filter.to_sql(scope, co, depth + 1)?).push(", false)");
            parts.push(sql);
        }
        for (filter, column, field) in [
            (&self.id, "id", "id"),
            (&self.owner_id, "owner_id", "ownerId"),
            (&self.parent_id, "parent_id", "parentId"),
        ] {
            if let Some(f) = filter {
                parts.extend(f.conditions(&format!("{co}.{column}"), field)?);
            }
        }
        let texts = [
            (&self.name, "name", "name"),
            (&self.domain, "domain", "domain"),
            (&self.industry, "industry", "industry"),
            (&self.website, "website", "website"),
        ];
        for (filter, column, field) in texts {
            if let Some(f) = filter {
                parts.extend(f.conditions(&format!("{co}.{column}"), field)?);
            }
        }
        if let Some(f) = &self.size {
            parts.extend(f.conditions(&format!("{co}.size"), "size")?);
        }
        if let Some(f) = &self.created_at {
            parts.extend(f.conditions(&format!("{co}.created_at")));
        }
        if let Some(f) = &self.updated_at {
            parts.extend(f.conditions(&format!("{co}.updated_at")));
        }
        if let Some(text) = self.search.as_deref().map(search_text).transpose()?.flatten() {
            // Companies are few next to contacts: substrings and similar words at once.
            let mut sql = Sql::new("(");
            sql.append(text_match(&format!("lower({co}.name)"), &text, false)).push(" OR ");
            sql.append(text_match(&format!("lower({co}.name)"), &text, true));
            sql.push(&format!(" OR coalesce({co}.domain, '') LIKE "))
                .bind(format!("%{}%", like_literal(&text)));
            sql.push(")");
            parts.push(sql);
        }
        if let Some(filters) = &self.custom_fields {
            check_list("customFields", filters)?;
            for f in filters {
                parts.extend(f.conditions(&scope.company_fields, &format!("{co}.custom_fields"))?);
            }
        }
        if let Some(relation) = &self.contacts {
            for (filter, negate) in [(&relation.some, false), (&relation.none, true)] {
                let Some(filter) = filter else { continue };
                let c = scope.alias("c");
                let mut sql = Sql::new(&format!(
                    "{}EXISTS (SELECT 1 FROM contacts {c} WHERE {c}.company_id = {co}.id AND {c}.deleted_at IS NULL AND ",
                    if negate { "NOT " } else { "" }
                ));
                sql.append(filter.to_sql(scope, &c, depth + 1)?).push(")");
                parts.push(sql);
            }
        }
        if let Some(filter) = &self.parent {
            let parent = scope.alias("co");
            let mut sql = Sql::new(&format!(
                "{co}.parent_id = ANY(ARRAY(SELECT {parent}.id FROM companies {parent} WHERE {parent}.deleted_at IS NULL AND "
            ));
            sql.append(filter.to_sql(scope, &parent, depth + 1)?).push("))");
            parts.push(sql);
        }
        Ok(join(parts, "AND"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relation_filters_nest_with_fresh_aliases_and_bound_values() {
        let filter = ContactFilter {
            company: Some(Box::new(CompanyFilter {
                contacts: Some(ContactRelationFilter {
                    none: Some(Box::new(ContactFilter {
                        first_name: Some(StringFilter { eq: Some("Bob".into()), ..Default::default() }),
                        ..Default::default()
                    })),
                    ..Default::default()
                }),
                ..Default::default()
            })),
            ..Default::default()
        };
        let sql = filter.to_sql(&mut Scope::without_fields(), "c", 0).expect("valid");
        assert!(sql.text().contains("c.company_id IN (SELECT co1.id FROM companies co1"), "{}", sql.text());
        let nested = ContactFilter { not: Some(Box::new(filter.clone())), ..Default::default() };
        let sql_nested = nested.to_sql(&mut Scope::without_fields(), "c", 0).expect("valid");
        assert!(
            sql_nested.text().contains("c.company_id = ANY(ARRAY(SELECT co1.id FROM companies co1"),
            "{}",
            sql_nested.text()
        );
        assert!(
            sql.text().contains("NOT EXISTS (SELECT 1 FROM contacts c2 WHERE c2.company_id = co1.id"),
            "{}",
            sql.text()
        );
        assert!(sql.text().contains("c2.first_name = $1::text"), "{}", sql.text());
        assert!(!sql.text().contains("Bob"));
    }

    #[test]
    fn nesting_is_bounded() {
        let mut filter = ContactFilter::default();
        for _ in 0..=MAX_DEPTH {
            filter = ContactFilter { not: Some(Box::new(filter)), ..Default::default() };
        }
        let err = filter.to_sql(&mut Scope::without_fields(), "c", 0).expect_err("too deep");
        assert_eq!(err.code(), "BAD_USER_INPUT");
    }

    #[test]
    fn unknown_custom_fields_are_bad_input() {
        let filter = ContactFilter {
            custom_fields: Some(vec![CustomFieldFilter { key: "nope".into(), ..Default::default() }]),
            ..Default::default()
        };
        let err = filter.to_sql(&mut Scope::without_fields(), "c", 0).expect_err("unknown key");
        assert_eq!(err.code(), "BAD_USER_INPUT");
    }
}
