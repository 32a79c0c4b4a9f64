//! Dynamic SQL for filters, sorts and keyset pages: text and bound values grow together, so a
//! value from a client is always a `$n` parameter and never part of the statement text.

use sea_orm::{DbBackend, Statement, Value};

#[derive(Default, Debug)]
pub struct Sql {
    text: String,
    values: Vec<Value>,
}

impl Sql {
    pub fn new(text: &str) -> Self {
        Self { text: text.to_owned(), values: Vec::new() }
    }

    /// Appends statement text; it must never hold client input.
    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder bound to `value`.
    pub fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.values.push(value.into());
        self.text.push('$');
        self.text.push_str(&self.values.len().to_string());
        self
    }

    /// Appends a placeholder cast to `sql_type` (a type name from code, never from input).
    pub fn bind_as(&mut self, value: impl Into<Value>, sql_type: &str) -> &mut Self {
        self.bind(value).push("::").push(sql_type)
    }

    /// Appends another fragment, renumbering its placeholders after this one's.
    pub fn append(&mut self, other: Sql) -> &mut Self {
        let offset = self.values.len();
        if offset == 0 {
            self.text.push_str(&other.text);
        } else {
            self.text.push_str(&renumber(&other.text, offset));
        }
        self.values.extend(other.values);
        self
    }

    pub fn is_empty(&self) -> bool {
        self.text.trim().is_empty()
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn statement(self) -> Statement {
        Statement::from_sql_and_values(DbBackend::Postgres, self.text, self.values)
    }
}

/// Shifts every `$n` in `text` by `offset`. Fragments come from this module, whose text holds `$`
/// only in placeholders (string constants in SQL written here use single quotes, never `$$`).
fn renumber(text: &str, offset: usize) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut chars = text.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        let mut digits = String::new();
        while let Some(&(_, d)) = chars.peek() {
            if !d.is_ascii_digit() {
                break;
            }
            digits.push(d);
            chars.next();
        }
        match digits.parse::<usize>() {
            Ok(n) => out.push_str(&format!("${}", n + offset)),
            Err(_) => out.push('$'),
        }
    }
    out
}

/// `value` as a LIKE pattern that matches it literally.
pub fn like_literal(value: &str) -> String {
    value.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// Joins conditions with `AND` / `OR`; an empty list is `TRUE` for AND and `FALSE` for OR.
pub fn join(parts: Vec<Sql>, operator: &str) -> Sql {
    let mut out = Sql::default();
    if parts.is_empty() {
        out.push(if operator == "AND" { "TRUE" } else { "FALSE" });
        return out;
    }
    out.push("(");
    for (i, part) in parts.into_iter().enumerate() {
        if i > 0 {
            out.push(" ").push(operator).push(" ");
        }
        out.push("(").append(part).push(")");
    }
    out.push(")");
    out
}

/// Every column of `E` as a select list (`c."id", c."first_name", …`; no alias: unqualified).
/// A result is never written as `*`: a statement prepared on a pooled connection before a
/// migration added a column would fail on every later run with "cached plan must not change
/// result type" until the connection closed.
pub fn columns<E: sea_orm::EntityTrait>(alias: &str) -> String {
    use sea_orm::{IdenStatic, Iterable};
    let prefix = if alias.is_empty() { String::new() } else { format!("{alias}.") };
    E::Column::iter().map(|column| format!("{prefix}\"{}\"", column.as_str())).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appended_fragments_keep_their_values_in_order() {
        let mut left = Sql::new("a = ");
        left.bind(1).push(" AND b = ").bind("x");
        let mut right = Sql::new("c = ");
        right.bind(2).push(" OR d = ").bind(3);
        let joined = join(vec![left, right], "AND");
        assert_eq!(joined.text(), "((a = $1 AND b = $2) AND (c = $3 OR d = $4))");
        let statement = joined.statement();
        assert_eq!(statement.values.expect("values").0.len(), 4);
    }

    #[test]
    fn like_patterns_are_literal() {
        assert_eq!(like_literal("50%_off\\"), "50\\%\\_off\\\\");
    }
}
