//! Delivering one message: over SMTP, or into a `.eml` file in `MAIL_DIR` when no server is
//! configured (so someone trying the product can open what was sent).
//!
//! The SMTP conversation is driven step by step so the sender can record, durably, the moment
//! the server starts receiving the message (after `DATA` was accepted, before the content and its
//! final dot). Before that moment a failure means the server has nothing and the email may be
//! tried again; after it, only the server's reply says whether it took the message.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use crm_platform::config::MailSettings;
use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::Error as SmtpError;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};

/// How long one SMTP command (or the message content) may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);
/// How long connecting, greeting, TLS, login and the envelope may take together.
const PREPARE_LIMIT: Duration = Duration::from_secs(60);

/// One email, ready to go.
#[derive(Clone, Debug)]
pub struct Outgoing {
    /// `<id@domain>`, fixed by the email's id, so every attempt carries the same one.
    pub message_id: String,
    pub to: Mailbox,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
}

/// What one attempt came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The server took the message (2xx after the content).
    Accepted,
    /// Worth another attempt later: a 4xx reply, or no conversation (unreachable, dropped)
    /// before the message content was sent. The server has nothing.
    Deferred(String),
    /// The server refused the message (5xx) or it cannot be built: final.
    Refused(String),
    /// The server refused the recipient (5xx to RCPT): final.
    Bounced(String),
    /// The content went out but no reply came (the connection broke): the server may have it,
    /// so it is never sent again.
    Unconfirmed(String),
    /// The attempt lost its claim on the email before sending the content (another sender took
    /// it over): nothing was sent.
    Superseded,
}

/// Implicit TLS (`smtps://`), STARTTLS required (`smtp://`), or none (`smtp://…?tls=none`,
/// for a server on loopback); `tls=opportunistic` upgrades when the server offers it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Tls {
    Implicit,
    Required,
    Opportunistic,
    None,
}

#[derive(Clone, Debug)]
struct SmtpServer {
    host: String,
    port: u16,
    tls: Tls,
    credentials: Option<(String, String)>,
}

pub enum Transport {
    Smtp { server: SmtpServerSpec, from: Mailbox },
    Files { dir: PathBuf, from: Mailbox },
}

/// Where the SMTP server is and how to talk to it, from `SMTP_URL`.
#[derive(Clone, Debug)]
pub struct SmtpServerSpec(SmtpServer);

impl Transport {
    pub fn from_settings(settings: &MailSettings) -> Result<Self, String> {
        let from: Mailbox = settings.from.parse().map_err(|err| format!("MAIL_FROM: {err}"))?;
        match &settings.smtp_url {
            None => Ok(Self::Files { dir: settings.dir.clone(), from }),
            Some(url) => {
                let server = parse_url(url).map_err(|err| format!("SMTP_URL: {err}"))?;
                Ok(Self::Smtp { server: SmtpServerSpec(server), from })
            }
        }
    }

    /// Where mail goes, for the startup log (never the password).
    pub fn describe(&self) -> String {
        match self {
            Self::Smtp { server: SmtpServerSpec(server), .. } => {
                let tls = match server.tls {
                    Tls::Implicit => "TLS",
                    Tls::Required => "STARTTLS",
                    Tls::Opportunistic => "STARTTLS when offered",
                    Tls::None => "no encryption",
                };
                format!("SMTP at {}:{} ({tls})", server.host, server.port)
            }
            Self::Files { dir, .. } => format!(".eml files in {}", dir.display()),
        }
    }

    /// The domain of `MAIL_FROM`, for Message-IDs.
    pub fn from_domain(&self) -> String {
        let (Self::Smtp { from, .. } | Self::Files { from, .. }) = self;
        from.email.domain().to_owned()
    }

    /// Delivers `outgoing`. `delivering` is called once the server is ready for the content; it
    /// records that moment and says whether this attempt still holds the email (when it does
    /// not, nothing is sent).
    pub async fn deliver<F, Fut>(&self, outgoing: &Outgoing, delivering: F) -> Outcome
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = bool>,
    {
        let (Self::Smtp { from, .. } | Self::Files { from, .. }) = self;
        let message = match build(from, outgoing) {
            Ok(message) => message,
            Err(reason) => return Outcome::Refused(reason),
        };
        match self {
            Self::Smtp { server: SmtpServerSpec(server), .. } => converse(server, &message, delivering).await,
            Self::Files { dir, .. } => {
                if !delivering().await {
                    return Outcome::Superseded;
                }
                // Named by the Message-ID: writing it again replaces it, never doubles it.
                let name: String = outgoing
                    .message_id
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '_' })
                    .collect();
                let written = async {
                    tokio::fs::create_dir_all(dir).await?;
                    tokio::fs::write(dir.join(format!("{name}.eml")), message.formatted()).await
                };
                match written.await {
                    Ok(()) => Outcome::Accepted,
                    Err(err) => Outcome::Deferred(format!("{}: {err}", dir.display())),
                }
            }
        }
    }
}

async fn converse<F, Fut>(server: &SmtpServer, message: &Message, delivering: F) -> Outcome
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = bool>,
{
    let content = message.formatted();
    // Everything before the content, bounded as a whole: the server has nothing yet.
    let prepared = tokio::time::timeout(PREPARE_LIMIT, prepare(server, message, &content)).await;
    let mut conn = match prepared {
        Ok(Ok(conn)) => conn,
        Ok(Err(outcome)) => return outcome,
        Err(_) => return Outcome::Deferred("the server did not answer in time".to_owned()),
    };
    if !delivering().await {
        // Closing mid-DATA makes the server drop what it has; a QUIT would be read as content.
        drop(conn);
        return Outcome::Superseded;
    }
    let reply = tokio::time::timeout(SMTP_TIMEOUT, conn.message(&content)).await;
    let outcome = match reply {
        Ok(Ok(_)) => Outcome::Accepted,
        Ok(Err(err)) if err.is_transient() => Outcome::Deferred(describe(&err)),
        Ok(Err(err)) if err.is_permanent() => Outcome::Refused(describe(&err)),
        Ok(Err(err)) => Outcome::Unconfirmed(describe(&err)),
        Err(_) => Outcome::Unconfirmed("no reply from the server after the message content".to_owned()),
    };
    if outcome == Outcome::Accepted {
        let _ = tokio::time::timeout(SMTP_TIMEOUT, conn.quit()).await;
    }
    // Otherwise the connection is just closed: it is broken or the server said no.
    outcome
}

/// Connects and goes as far as the server's go-ahead for the content (354 to DATA).
async fn prepare(
    server: &SmtpServer,
    message: &Message,
    content: &[u8],
) -> Result<AsyncSmtpConnection, Outcome> {
    let mut conn = connect(server).await.map_err(Outcome::Deferred)?;
    let envelope = message.envelope();
    let mut parameters = Vec::new();
    if !content.is_ascii() {
        if !conn.server_info().supports_feature(Extension::EightBitMime) {
            conn.abort().await;
            return Err(Outcome::Refused(
                "the message needs 8BITMIME, which the server does not offer".to_owned(),
            ));
        }
        parameters.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    if let Err(err) = conn.command(Mail::new(envelope.from().cloned(), parameters)).await {
        conn.abort().await;
        return Err(before_content(&err, false));
    }
    for to in envelope.to() {
        if let Err(err) = conn.command(Rcpt::new(to.clone(), vec![])).await {
            conn.abort().await;
            return Err(before_content(&err, true));
        }
    }
    if let Err(err) = conn.command(Data).await {
        conn.abort().await;
        return Err(before_content(&err, false));
    }
    Ok(conn)
}

/// A failure before any content went out: the server has nothing.
fn before_content(err: &SmtpError, recipient: bool) -> Outcome {
    match (err.is_permanent(), recipient) {
        (true, true) => Outcome::Bounced(describe(err)),
        (true, false) => Outcome::Refused(describe(err)),
        (false, _) => Outcome::Deferred(describe(err)),
    }
}

/// A connection ready for an envelope; a failure is described in one line.
async fn connect(server: &SmtpServer) -> Result<AsyncSmtpConnection, String> {
    let fail = |err: SmtpError| describe(&err);
    let hello = ClientId::default();
    let mut conn = if server.tls == Tls::Implicit {
        let tls = TlsParameters::new(server.host.clone()).map_err(fail)?;
        let address = (server.host.as_str(), server.port);
        AsyncSmtpConnection::connect_tokio1(address, Some(SMTP_TIMEOUT), &hello, Some(tls), None)
            .await
            .map_err(fail)?
    } else {
        // Our own socket, without Nagle's delay: the content and its final dot are two writes,
        // and waiting for the server's delayed ACK in between costs ~40 ms a message.
        let unreachable = |err: std::io::Error| format!("{}:{}: {err}", server.host, server.port);
        let tcp =
            tokio::net::TcpStream::connect((server.host.as_str(), server.port)).await.map_err(unreachable)?;
        tcp.set_nodelay(true).map_err(unreachable)?;
        AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &hello).await.map_err(fail)?
    };
    let upgrade = match server.tls {
        Tls::Required => true,
        Tls::Opportunistic => conn.can_starttls(),
        Tls::Implicit | Tls::None => false,
    };
    if upgrade {
        let tls = TlsParameters::new(server.host.clone()).map_err(fail)?;
        conn.starttls(tls, &hello).await.map_err(fail)?;
    }
    if let Some((user, password)) = &server.credentials {
        let credentials = Credentials::new(user.clone(), password.clone());
        conn.auth(&[Mechanism::Plain, Mechanism::Login], &credentials).await.map_err(fail)?;
    }
    Ok(conn)
}

/// The server's reply or the connection error, in one line.
fn describe(err: &SmtpError) -> String {
    err.to_string().replace(['\r', '\n'], " ")
}

fn build(from: &Mailbox, outgoing: &Outgoing) -> Result<Message, String> {
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
    built.map_err(|err| err.to_string())
}

/// Reads `smtp[s]://[user[:password]@]host[:port][?tls=required|opportunistic|none]`.
fn parse_url(raw: &str) -> Result<SmtpServer, String> {
    let url = url::Url::parse(raw).map_err(|err| err.to_string())?;
    let host = url.host_str().filter(|h| !h.is_empty()).ok_or("no host")?;
    let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
    let mut tls = match url.scheme() {
        "smtps" => Tls::Implicit,
        "smtp" => Tls::Required,
        other => return Err(format!("the scheme must be smtp or smtps, not {other}")),
    };
    for (key, value) in url.query_pairs() {
        match (key.as_ref(), value.as_ref(), &tls) {
            ("tls", "none", Tls::Required) => tls = Tls::None,
            ("tls", "opportunistic", Tls::Required) => tls = Tls::Opportunistic,
            ("tls", "required", _) => {}
            _ => return Err(format!("unknown parameter {key}={value}")),
        }
    }
    let port = url.port().unwrap_or(match tls {
        Tls::Implicit => 465,
        Tls::None => 25,
        Tls::Required | Tls::Opportunistic => 587,
    });
    let decode = |part: &str| percent_encoding::percent_decode_str(part).decode_utf8_lossy().into_owned();
    let credentials = (!url.username().is_empty())
        .then(|| (decode(url.username()), decode(url.password().unwrap_or_default())));
    Ok(SmtpServer { host, port, tls, credentials })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_require_starttls_unless_told_otherwise() {
        let required = parse_url("smtp://mail.example.com").expect("valid");
        assert_eq!((required.tls, required.port), (Tls::Required, 587));
        let plain = parse_url("smtp://127.0.0.1:2525?tls=none").expect("valid");
        assert_eq!((plain.tls, plain.port, plain.host.as_str()), (Tls::None, 2525, "127.0.0.1"));
        let opportunistic = parse_url("smtp://m:25?tls=opportunistic").expect("valid");
        assert_eq!(opportunistic.tls, Tls::Opportunistic);
        let implicit = parse_url("smtps://u%40x:p%3Aw@m").expect("valid");
        assert_eq!((implicit.tls, implicit.port), (Tls::Implicit, 465));
        assert_eq!(implicit.credentials, Some(("u@x".to_owned(), "p:w".to_owned())));
        assert!(parse_url("smtps://m?tls=none").is_err(), "TLS cannot be turned off for smtps");
        assert!(parse_url("http://m").is_err());
        assert!(parse_url("smtp://m?debug=1").is_err());
    }

    #[test]
    fn descriptions_never_show_credentials() {
        let settings = MailSettings {
            smtp_url: Some("smtps://user:secret@mail.example.com:465".to_owned()),
            from: "crm@example.com".to_owned(),
            ..MailSettings::default()
        };
        let described = Transport::from_settings(&settings).expect("valid").describe();
        assert_eq!(described, "SMTP at mail.example.com:465 (TLS)");
    }
}
