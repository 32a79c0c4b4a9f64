//! Possible duplicates of a contact: other live contacts sharing an email or a phone number, or
//! with the same or a similar name, scored by how strong the shared signals are.

use async_graphql::Enum;
use crm_entities::tenant::contact;
use crm_platform::sql::{Sql, columns};
use crm_platform::{ApiResult, TenantTx};
use sea_orm::{ConnectionTrait, FromQueryResult};

/// Candidates scored below this are not shown.
const MIN_SCORE: f64 = 0.3;
const MAX_CANDIDATES: u64 = 20;
/// Phone numbers with fewer digits are too short to identify anyone.
const MIN_PHONE_DIGITS: usize = 7;

/// Why a contact looks like a duplicate.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DuplicateSignal {
    /// An email address in common (primary or additional).
    Email,
    /// A phone number in common (compared by its digits).
    Phone,
    /// The same first and last name.
    Name,
    /// A similar name (a typo, a nickname's spelling).
    SimilarName,
    /// The same company.
    Company,
}

pub struct Duplicate {
    pub contact: contact::Model,
    pub score: f64,
    pub signals: Vec<DuplicateSignal>,
}

#[derive(FromQueryResult)]
struct Signals {
    email_match: bool,
    phone_match: bool,
    name_match: bool,
    name_similarity: f32,
    company_match: bool,
}

/// All emails of a contact, primary first.
pub fn emails(row: &contact::Model) -> Vec<String> {
    row.email.iter().chain(&row.additional_emails).cloned().collect()
}

/// The digits of each of a contact's phones that are long enough to compare.
pub fn phone_digits(row: &contact::Model) -> Vec<String> {
    row.phone
        .iter()
        .chain(&row.additional_phones)
        .map(|p| p.chars().filter(char::is_ascii_digit).collect::<String>())
        .filter(|d| d.len() >= MIN_PHONE_DIGITS)
        .collect()
}

fn full_name(row: &contact::Model) -> String {
    format!("{} {}", row.first_name, row.last_name).trim().to_lowercase()
}

/// The likely duplicates of `row`, best first.
pub async fn find_duplicates(tx: &TenantTx, row: &contact::Model) -> ApiResult<Vec<Duplicate>> {
    let emails = emails(row);
    let phones: Vec<String> = phone_digits(row);
    let name = full_name(row);
    let mut sql = Sql::new(&format!("SELECT {}, coalesce(c.email = ANY(", columns::<contact::Entity>("c")));
    sql.bind_as(emails.clone(), "text[]")
        .push(") OR c.additional_emails && ")
        .bind_as(emails.clone(), "text[]");
    sql.push(", false) AS email_match, c.phone_digits && ").bind_as(phones.clone(), "text[]");
    sql.push(" AS phone_match, lower(trim(c.first_name || ' ' || c.last_name)) = ").bind(name.clone());
    sql.push(" AS name_match, extensions.similarity(lower(trim(c.first_name || ' ' || c.last_name)), ");
    sql.bind(name.clone()).push(") AS name_similarity, coalesce(c.company_id = ").bind(row.company_id);
    sql.push(", false) AS company_match FROM contacts c WHERE c.deleted_at IS NULL AND c.id <> ")
        .bind(row.id);
    sql.push(" AND (c.email = ANY(").bind_as(emails.clone(), "text[]");
    sql.push(") OR c.additional_emails && ").bind_as(emails, "text[]");
    sql.push(" OR c.phone_digits && ").bind_as(phones, "text[]");
    sql.push(" OR ").bind(name).push(" OPERATOR(extensions.<%) c.search_text)");
    sql.push(&format!(" LIMIT {}", MAX_CANDIDATES * 5));
    let results = tx.query_all(sql.statement()).await?;
    let mut found = Vec::new();
    for result in &results {
        let signals = Signals::from_query_result(result, "")?;
        let (score, signals) = score(&signals);
        if score >= MIN_SCORE {
            found.push(Duplicate { contact: contact::Model::from_query_result(result, "")?, score, signals });
        }
    }
    found.sort_by(|a, b| b.score.total_cmp(&a.score).then(b.contact.id.cmp(&a.contact.id)));
    found.truncate(MAX_CANDIDATES as usize);
    Ok(found)
}

fn score(s: &Signals) -> (f64, Vec<DuplicateSignal>) {
    let mut score = 0.0;
    let mut signals = Vec::new();
    if s.email_match {
        score += 0.7;
        signals.push(DuplicateSignal::Email);
    }
    if s.phone_match {
        score += 0.4;
        signals.push(DuplicateSignal::Phone);
    }
    if s.name_match {
        score += 0.3;
        signals.push(DuplicateSignal::Name);
    } else if s.name_similarity >= 0.5 {
        score += 0.25 * f64::from(s.name_similarity);
        signals.push(DuplicateSignal::SimilarName);
    }
    if s.company_match && !signals.is_empty() {
        score += 0.15;
        signals.push(DuplicateSignal::Company);
    }
    (f64::min(score, 1.0), signals)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_email_outweighs_a_shared_name() {
        let email = Signals {
            email_match: true,
            phone_match: false,
            name_match: false,
            name_similarity: 0.1,
            company_match: false,
        };
        let name = Signals {
            email_match: false,
            phone_match: false,
            name_match: true,
            name_similarity: 1.0,
            company_match: false,
        };
        let company_only = Signals {
            email_match: false,
            phone_match: false,
            name_match: false,
            name_similarity: 0.0,
            company_match: true,
        };
        assert!(score(&email).0 > score(&name).0);
        assert_eq!(score(&name).1, [DuplicateSignal::Name]);
        assert_eq!(score(&company_only), (0.0, vec![]), "a colleague is not a duplicate");
    }
}
