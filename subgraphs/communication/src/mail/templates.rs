//! Email templates: a subject, a text body and an optional HTML body, each a Jinja template
//! (minijinja) over the variables below. A template is checked when it is saved: a syntax error
//! or a variable that does not exist is refused then (naming the part, the line and the
//! variable), never discovered when mail goes out. In the HTML part every value is escaped, so
//! a contact named `<script>` stays text; the subject and the text body are not HTML.
//!
//! Variables (any may be absent, e.g. `deal` for mail not about a deal; absent renders empty):
//! `contact.{first_name, last_name, full_name, email, phone, job_title}`,
//! `company.{name, domain}`, `deal.{title, amount, currency, stage, expected_close_date}`,
//! `sender.{name, email}`, `organization.{name}`.

use crm_platform::{ApiError, ApiResult};
use minijinja::value::{Serde, Value};
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;

/// The variables a template may use, by object.
pub const VARIABLES: &[(&str, &[&str])] = &[
    ("contact", &["first_name", "last_name", "full_name", "email", "phone", "job_title"]),
    ("company", &["name", "domain"]),
    ("deal", &["title", "amount", "currency", "stage", "expected_close_date"]),
    ("sender", &["name", "email"]),
    ("organization", &["name"]),
];

/// Functions a template may call (minijinja's built-in globals).
const FUNCTIONS: &[&str] = &["range", "dict", "namespace", "loop"];

/// Template instructions one rendering may spend: enough for any real email, not for a loop
/// that would run away.
const FUEL: u64 = 100_000;
/// The most a rendered part may weigh.
const MAX_RENDERED: usize = 512 * 1024;
/// The most a template part may weigh.
const MAX_SOURCE: usize = 256 * 1024;

/// Which part of a template, named as the input field that holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Subject,
    Text,
    Html,
}

impl Part {
    fn field(self) -> &'static str {
        match self {
            Self::Subject => "subject",
            Self::Text => "text",
            Self::Html => "html",
        }
    }
}

/// A template's three parts, as saved.
pub struct Source<'a> {
    pub subject: &'a str,
    pub text: &'a str,
    pub html: Option<&'a str>,
}

impl Source<'_> {
    fn parts(&self) -> impl Iterator<Item = (Part, &str)> {
        [(Part::Subject, Some(self.subject)), (Part::Text, Some(self.text)), (Part::Html, self.html)]
            .into_iter()
            .filter_map(|(part, source)| source.map(|s| (part, s)))
    }
}

/// What one email says once rendered.
#[derive(Debug, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
}

/// The values of one email's variables.
#[derive(Default, Serialize)]
pub struct Variables {
    pub contact: Option<ContactVars>,
    pub company: Option<CompanyVars>,
    pub deal: Option<DealVars>,
    pub sender: Option<SenderVars>,
    pub organization: Option<OrganizationVars>,
}

#[derive(Default, Serialize)]
pub struct ContactVars {
    pub first_name: String,
    pub last_name: String,
    pub full_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub job_title: Option<String>,
}

#[derive(Default, Serialize)]
pub struct CompanyVars {
    pub name: String,
    pub domain: Option<String>,
}

#[derive(Default, Serialize)]
pub struct DealVars {
    pub title: String,
    pub amount: Option<String>,
    pub currency: String,
    pub stage: String,
    pub expected_close_date: Option<String>,
}

#[derive(Default, Serialize)]
pub struct SenderVars {
    pub name: String,
    pub email: String,
}

#[derive(Default, Serialize)]
pub struct OrganizationVars {
    pub name: String,
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_fuel(Some(FUEL));
    env.set_undefined_behavior(UndefinedBehavior::Lenient);
    env.set_auto_escape_callback(|name| if name == "html" { AutoEscape::Html } else { AutoEscape::None });
    env
}

/// Refuses a template with a syntax error or an unknown variable, naming the part and line.
pub fn check(source: &Source<'_>) -> ApiResult<()> {
    let env = environment();
    for (part, text) in source.parts() {
        if text.len() > MAX_SOURCE {
            return Err(ApiError::bad_input(part.field(), format!("at most {} KiB", MAX_SOURCE / 1024)));
        }
        if part == Part::Subject && text.contains(['\r', '\n']) {
            return Err(ApiError::bad_input(part.field(), "a subject is one line"));
        }
        let template = env.template_from_named_str(part.field(), text).map_err(|err| {
            let line = err.line().map(|l| format!("line {l}: ")).unwrap_or_default();
            let detail = err.detail().map_or_else(|| err.kind().to_string(), str::to_owned);
            ApiError::bad_input(part.field(), format!("{line}{detail}"))
        })?;
        let mut unknown: Vec<String> =
            template.undeclared_variables(true).into_iter().filter(|name| !known(name)).collect();
        unknown.sort();
        if let Some(name) = unknown.first() {
            let line = line_of(text, name).map(|l| format!("line {l}: ")).unwrap_or_default();
            return Err(ApiError::bad_input(
                part.field(),
                format!("{line}unknown variable `{name}`; known: {}", known_list()),
            ));
        }
    }
    Ok(())
}

/// Renders a checked template with `variables`.
pub fn render(source: &Source<'_>, variables: &Variables) -> ApiResult<Rendered> {
    let env = environment();
    let context = Value::from(Serde(variables));
    let render = |part: Part, text: &str| -> ApiResult<String> {
        let fail =
            |err: minijinja::Error| ApiError::bad_input(part.field(), format!("cannot be rendered: {err}"));
        let rendered =
            env.template_from_named_str(part.field(), text).map_err(fail)?.render(&context).map_err(fail)?;
        if rendered.len() > MAX_RENDERED {
            return Err(ApiError::bad_input(
                part.field(),
                format!("renders over {} KiB", MAX_RENDERED / 1024),
            ));
        }
        Ok(rendered)
    };
    Ok(Rendered {
        subject: render(Part::Subject, source.subject)?.trim().to_owned(),
        text: render(Part::Text, source.text)?,
        html: source.html.map(|html| render(Part::Html, html)).transpose()?,
    })
}

/// `object` or `object.field` (what `undeclared_variables(true)` reports) among the variables,
/// or a built-in function.
fn known(name: &str) -> bool {
    let (object, field) = name.split_once('.').map_or((name, None), |(o, f)| (o, Some(f)));
    if field.is_none() && FUNCTIONS.contains(&object) {
        return true;
    }
    VARIABLES.iter().any(|(o, fields)| {
        *o == object && field.is_none_or(|f| fields.contains(&f.split('.').next().unwrap_or(f)))
    })
}

fn known_list() -> String {
    VARIABLES
        .iter()
        .map(|(object, fields)| format!("{object}.{{{}}}", fields.join(", ")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The first line (from 1) where `name` appears as a whole word.
fn line_of(text: &str, name: &str) -> Option<usize> {
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '.';
    text.lines()
        .position(|line| {
            line.match_indices(name).any(|(at, _)| {
                let before = line[..at].chars().next_back();
                let after = line[at + name.len()..].chars().next();
                !before.is_some_and(word) && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
            })
        })
        .map(|index| index + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(source: Source<'_>) -> (String, String) {
        match check(&source) {
            Err(ApiError::BadInput { field, message }) => (field.into_owned(), message),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    fn ann() -> Variables {
        Variables {
            contact: Some(ContactVars {
                first_name: "Ann".into(),
                last_name: "<script>alert(1)</script>".into(),
                full_name: "Ann <script>alert(1)</script>".into(),
                ..Default::default()
            }),
            organization: Some(OrganizationVars { name: "Acme & Sons".into() }),
            ..Default::default()
        }
    }

    #[test]
    fn unknown_variables_are_refused_with_their_part_and_line() {
        let (field, message) = refusal(Source {
            subject: "Hello {{ contact.first_name }}",
            text: "Hi,\n\nyour nickname is {{ contact.nickname }}.\n",
            html: None,
        });
        assert_eq!(field, "text");
        assert!(message.starts_with("line 3: unknown variable `contact.nickname`"), "{message}");
        assert!(message.contains("contact.{first_name"), "{message}");
        let (field, message) = refusal(Source { subject: "{{ user.name }}", text: "", html: None });
        assert_eq!(
            (field.as_str(), message.starts_with("line 1: unknown variable `user.name`")),
            ("subject", true)
        );
    }

    #[test]
    fn syntax_errors_are_refused_with_their_line() {
        let (field, message) =
            refusal(Source { subject: "Hi", text: "ok", html: Some("<p>\n{% if contact %}\n<b>open</b>") });
        assert_eq!(field, "html");
        assert!(message.starts_with("line "), "{message}");
        let (field, _) = refusal(Source { subject: "Hi {{ contact.first_name", text: "", html: None });
        assert_eq!(field, "subject");
    }

    #[test]
    fn loops_and_their_own_names_are_fine_and_runaway_loops_stop() {
        let looping = Source {
            subject: "Hi",
            text: "{% for n in range(3) %}{{ loop.index }}:{{ n }} {% endfor %}{% set greeting = 'Hey' %}{{ greeting }}",
            html: None,
        };
        check(&looping).expect("loop variables and sets are the template's own");
        assert_eq!(render(&looping, &Variables::default()).expect("renders").text, "1:0 2:1 3:2 Hey");
        let runaway = Source {
            subject: "Hi",
            text: "{% for a in range(10000) %}{% for b in range(10000) %}x{% endfor %}{% endfor %}",
            html: None,
        };
        check(&runaway).expect("valid, if silly");
        assert!(render(&runaway, &Variables::default()).is_err(), "stopped by fuel");
    }

    #[test]
    fn contact_data_is_escaped_in_html_only() {
        let source = Source {
            subject: "For {{ contact.full_name }}\n",
            text: "Dear {{ contact.full_name }} of {{ organization.name }}",
            html: Some("<p>Dear {{ contact.full_name }} of {{ organization.name }}</p>"),
        };
        check(&Source { subject: "For {{ contact.full_name }}", ..source }).expect("valid");
        let rendered = render(&source, &ann()).expect("renders");
        assert_eq!(
            rendered.html.as_deref(),
            Some("<p>Dear Ann &lt;script&gt;alert(1)&lt;&#x2f;script&gt; of Acme &amp; Sons</p>")
        );
        assert_eq!(rendered.text, "Dear Ann <script>alert(1)</script> of Acme & Sons");
        assert_eq!(rendered.subject, "For Ann <script>alert(1)</script>");
    }

    #[test]
    fn absent_objects_render_empty_and_subjects_are_one_line() {
        let source = Source { subject: "About {{ deal.title }}", text: "{{ deal.amount }}", html: None };
        check(&source).expect("valid");
        let rendered = render(&source, &Variables::default()).expect("renders");
        assert_eq!((rendered.subject.as_str(), rendered.text.as_str()), ("About", ""));
        let (field, _) = refusal(Source { subject: "Two\nlines", text: "", html: None });
        assert_eq!(field, "subject");
    }
}
