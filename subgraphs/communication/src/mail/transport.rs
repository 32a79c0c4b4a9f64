//! Delivering one message: over SMTP, or into a `.eml` file in `MAIL_DIR` when no server is
//! configured (so someone trying the product can open what was sent). A failure says whether
//! trying again may help (a 4xx reply, a connection that broke) or not (a 5xx reply).

use std::path::PathBuf;
use std::time::Duration;

use crm_platform::config::MailSettings;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// How long one SMTP conversation may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// One email, ready to go.
#[derive(Clone, Debug)]
pub struct Outgoing {
    /// `<id@domain>`, fixed when the email is queued, so every attempt carries the same one.
    pub message_id: String,
    pub to: Mailbox,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum DeliveryError {
    /// Worth another attempt later: the server said 4xx, or could not be reached.
    Transient(String),
    /// Final: the server refused it (5xx), or the message cannot be built.
    Permanent(String),
}

pub enum Transport {
    Smtp { server: AsyncSmtpTransport<Tokio1Executor>, from: Mailbox, describe: String },
    Files { dir: PathBuf, from: Mailbox },
}

impl Transport {
    /// `smtp://` requires STARTTLS unless the URL says `tls=none` (a local server);
    /// `smtps://` is TLS from the start; `user:password@` logs in.
    pub fn from_settings(settings: &MailSettings) -> Result<Self, String> {
        let from: Mailbox = settings.from.parse().map_err(|err| format!("MAIL_FROM: {err}"))?;
        let Some(url) = &settings.smtp_url else {
            return Ok(Self::Files { dir: settings.dir.clone(), from });
        };
        let url = with_tls_default(url);
        let server = AsyncSmtpTransport::<Tokio1Executor>::from_url(&url)
            .map_err(|err| format!("SMTP_URL: {err}"))?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        let describe = format!("SMTP at {}", host_of(&url));
        Ok(Self::Smtp { server, from, describe })
    }

    /// Where mail goes, for the startup log (never the password).
    pub fn describe(&self) -> String {
        match self {
            Self::Smtp { describe, .. } => describe.clone(),
            Self::Files { dir, .. } => format!(".eml files in {}", dir.display()),
        }
    }

    pub async fn deliver(&self, outgoing: &Outgoing) -> Result<(), DeliveryError> {
        let (Self::Smtp { from, .. } | Self::Files { from, .. }) = self;
        let message = build(from, outgoing)?;
        match self {
            Self::Smtp { server, .. } => server.send(message).await.map(drop).map_err(|err| {
                if err.is_permanent() {
                    DeliveryError::Permanent(err.to_string())
                } else {
                    DeliveryError::Transient(err.to_string())
                }
            }),
            Self::Files { dir, .. } => {
                let transient =
                    |err: std::io::Error| DeliveryError::Transient(format!("{}: {err}", dir.display()));
                tokio::fs::create_dir_all(dir).await.map_err(transient)?;
                let name: String = outgoing
                    .message_id
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '_' })
                    .collect();
                tokio::fs::write(dir.join(format!("{name}.eml")), message.formatted())
                    .await
                    .map_err(transient)
            }
        }
    }
}

fn build(from: &Mailbox, outgoing: &Outgoing) -> Result<Message, DeliveryError> {
    let builder = Message::builder()
        .message_id(Some(outgoing.message_id.clone()))
        .from(from.clone())
        .to(outgoing.to.clone())
        .subject(outgoing.subject.clone());
    let built = match &outgoing.html {
        Some(html) => {
            builder.multipart(MultiPart::alternative_plain_html(outgoing.text.clone(), html.clone()))
        }
        None => builder.header(ContentType::TEXT_PLAIN).body(outgoing.text.clone()),
    };
    built.map_err(|err| DeliveryError::Permanent(err.to_string()))
}

/// `smtp://` without a `tls` parameter gets `tls=required`; `tls=none` is dropped (plain).
fn with_tls_default(url: &str) -> String {
    if !url.starts_with("smtp://") {
        return url.to_owned();
    }
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut params: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
    if params.contains(&"tls=none") {
        params.retain(|p| *p != "tls=none");
    } else if !params.iter().any(|p| p.starts_with("tls=")) {
        params.push("tls=required");
    }
    if params.is_empty() { base.to_owned() } else { format!("{base}?{}", params.join("&")) }
}

/// `host:port` of an SMTP URL, without any credentials.
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.split(['/', '?']).next().unwrap_or(rest);
    rest.rsplit_once('@').map_or(rest, |(_, host)| host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_require_starttls_unless_told_otherwise() {
        assert_eq!(with_tls_default("smtp://mail:587"), "smtp://mail:587?tls=required");
        assert_eq!(with_tls_default("smtp://127.0.0.1:2525?tls=none"), "smtp://127.0.0.1:2525");
        assert_eq!(with_tls_default("smtp://m:25?tls=opportunistic"), "smtp://m:25?tls=opportunistic");
        assert_eq!(with_tls_default("smtps://u:p@m:465"), "smtps://u:p@m:465");
    }

    #[test]
    fn descriptions_never_show_credentials() {
        assert_eq!(host_of("smtps://user:secret@mail.example.com:465"), "mail.example.com:465");
        assert_eq!(host_of("smtp://mail:587?tls=required"), "mail:587");
    }
}
