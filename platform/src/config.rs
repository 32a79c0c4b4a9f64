//! Configuration from the environment. Every variable the services read is listed here:
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `DATABASE_URL` | PostgreSQL URL | `postgres://postgres@127.0.0.1:5432/crm` |
//! | `NATS_URL` | NATS server with JetStream | `nats://127.0.0.1:4222` |
//! | `NATS_STREAM_REPLICAS` | replicas of the event streams when they are created (3 on a 3-node JetStream cluster; an existing stream keeps its own, change it with `nats stream edit`) | `1` |
//! | `REDIS_URL` | Redis | `redis://127.0.0.1:6379` |
//! | `PORT` | listen port when one subgraph runs alone | the subgraph's own (8080–8084) |
//! | `LOG_LEVEL` | tracing filter (`info`, `crm_deal=debug,…`) | `info` |
//! | `ENVIRONMENT` | `development`, `test` or `production` (JSON logs, no introspection) | `development` |
//! | `JWT_ISSUER` | `iss` of access tokens | `mtenant-crm` |
//! | `JWT_AUDIENCE` | `aud` of access tokens | `mtenant-crm-api` |
//! | `JWKS_URL` | where verifiers fetch the signing keys | `http://127.0.0.1:8080/.well-known/jwks.json` |
//! | `ACCESS_TOKEN_TTL_SECS` | access token lifetime, at most 900 | `900` |
//! | `DB_MAX_CONNECTIONS` | pool size per process | `20` |
//! | `DB_CONNECTION_LIFETIME_SECS` | a pooled connection is closed and replaced after this long: what its backend cached of the tenants it served (relations, catalog rows, about 0.2 MB per tenant) goes with it (see docs/scaling.md) | `3600` |
//! | `TENANT_RETENTION_DAYS` | how long a deleted organization is kept before it is purged | `30` |
//! | `TRASH_RETENTION_DAYS` | how long trashed contacts and companies are kept before they are purged | `30` |
//! | `APP_BASE_URL` | the web app; password-reset and invitation links point here, never at a request's host | `http://localhost:3000` (`crm up`'s origin) |
//! | `FILES_BASE_URL` | where clients reach the contact subgraph's upload and download paths (`/files/…`): the public origin in a deployment | `http://127.0.0.1:8082` |
//! | `SIGNING_KEY_ROTATION_DAYS` | age at which the auth subgraph replaces its signing key (`0`: only `crm rotate-keys`) | `30` |
//! | `SMTP_URL` | the mail server: `smtp://host:587` (STARTTLS required), `smtps://host:465`, `smtp://host:25?tls=none` (local servers only); `user:password@` for AUTH | none: mail is written as `.eml` files into `MAIL_DIR` |
//! | `MAIL_FROM` | the sender of every email, `Name <address>` or `address` | `MTenant CRM <no-reply@localhost>` |
//! | `MAIL_DIR` | where mail goes when `SMTP_URL` is not set | `mail` (relative to the working directory) |
//! | `MAIL_MAX_ATTEMPTS` | attempts at an email before it is FAILED (4xx replies, unreachable server) | `8` |
//! | `MAIL_RETRY_SECS` | wait before the second attempt; each later wait is 4× longer, at most 6 hours | `60` |
//! | `TRACKING_BASE_URL` | where recipients reach the communication subgraph's open and click paths (`/track/…`): the public origin in a deployment | `http://127.0.0.1:8084` |
//! | `TRUSTED_PROXIES` | proxies whose `X-Forwarded-For` is believed (addresses, CIDR networks, or `none`) | `127.0.0.0/8,::1/128` |
//! | `WEBHOOK_ALLOWED_NETWORKS` | private networks webhook URLs may reach all the same (addresses or CIDR networks): for an operator's own receivers | none: loopback, private, link-local and metadata addresses are refused |
//! | `OTEL_EXPORTER_OTLP_ENDPOINT` | an OpenTelemetry collector's OTLP/HTTP base URL (`/v1/traces` is added); traces are exported only when it is set | none: traces off |
//! | `OTEL_SERVICE_NAME` | the service name traces carry | `crm-<subgraph>` (`crm-router` for the router) |
//! | `WEBHOOK_TIMEOUT_SECS` | how long one webhook attempt may take, connection to last byte | `10` |

use std::fmt;
use std::time::Duration;

use crate::client_address::{DEFAULT_TRUSTED_PROXIES, Networks, TrustedProxies};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Environment {
    Development,
    Test,
    Production,
}

#[derive(Clone, Debug)]
pub struct JwtSettings {
    pub issuer: String,
    pub audience: String,
    pub jwks_url: String,
    pub access_ttl: Duration,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub database_url: String,
    pub nats_url: String,
    pub nats_stream_replicas: usize,
    pub redis_url: String,
    pub port: Option<u16>,
    pub log_level: String,
    pub environment: Environment,
    pub jwt: JwtSettings,
    pub db_max_connections: u32,
    /// Age at which a pooled connection is replaced, bounding its backend's caches.
    pub db_connection_lifetime: Duration,
    pub app_base_url: String,
    /// Base of the upload and download URLs handed to clients.
    pub files_base_url: String,
    pub tenant_retention: Duration,
    /// How long trashed contacts and companies stay restorable.
    pub trash_retention: Duration,
    /// Proxies whose `X-Forwarded-For` is believed (the router, a load balancer).
    pub trusted_proxies: TrustedProxies,
    /// How often the auth subgraph replaces its signing key; `None` only by command.
    pub signing_key_rotation: Option<Duration>,
    pub mail: MailSettings,
    pub webhooks: WebhookSettings,
    /// Where traces go (an OTLP/HTTP base URL); `None`: not traced.
    pub otlp_endpoint: Option<String>,
    pub otel_service_name: Option<String>,
}

/// How webhooks are delivered.
#[derive(Clone, Debug)]
pub struct WebhookSettings {
    /// Private networks webhook URLs may reach all the same; empty in a normal deployment.
    pub allowed_networks: Networks,
    /// One attempt, connection to last byte.
    pub timeout: Duration,
    /// Wait before the second attempt; each later wait is 3× longer (at most 2 hours), ±20%.
    pub first_retry: Duration,
    /// A delivery that has failed for this long is given up (FAILED).
    pub give_up_after: Duration,
    /// An endpoint whose every attempt has failed for this long is disabled and its creator
    /// told by email.
    pub disable_after: Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            allowed_networks: Networks::default(),
            timeout: Duration::from_secs(10),
            first_retry: Duration::from_secs(10),
            give_up_after: Duration::from_secs(24 * 3600),
            disable_after: Duration::from_secs(3 * 24 * 3600),
        }
    }
}

/// Where email goes.
#[derive(Clone, Debug, Default)]
pub struct MailSettings {
    /// `None`: into `.eml` files in `dir`.
    pub smtp_url: Option<String>,
    pub from: String,
    pub dir: std::path::PathBuf,
    pub max_attempts: u32,
    /// Wait before the second attempt; later waits grow fourfold.
    pub retry_after: Duration,
    /// Base of the open-pixel and click-redirect URLs put into tracked emails.
    pub tracking_base_url: String,
}

/// Every problem found in the environment, reported together so one restart fixes them all.
#[derive(Debug)]
pub struct ConfigErrors(pub Vec<String>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invalid configuration:")?;
        for problem in &self.0 {
            writeln!(f, "  - {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Largest access-token lifetime we accept: a stolen token must not outlive a short window.
pub const MAX_ACCESS_TTL_SECS: u64 = 900;

impl Config {
    pub fn from_env() -> Result<Self, ConfigErrors> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigErrors> {
        let mut problems = Vec::new();
        let get = |key: &str, default: &str| {
            lookup(key).filter(|v| !v.trim().is_empty()).unwrap_or_else(|| default.to_owned())
        };

        let database_url = get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/crm");
        if !(database_url.starts_with("postgres://") || database_url.starts_with("postgresql://")) {
            problems.push("DATABASE_URL must start with postgres:// or postgresql://".to_owned());
        }
        let nats_url = get("NATS_URL", "nats://127.0.0.1:4222");
        if !nats_url.starts_with("nats://") && !nats_url.starts_with("tls://") {
            problems.push("NATS_URL must start with nats:// or tls://".to_owned());
        }
        let redis_url = get("REDIS_URL", "redis://127.0.0.1:6379");
        if !redis_url.starts_with("redis://") && !redis_url.starts_with("rediss://") {
            problems.push("REDIS_URL must start with redis:// or rediss://".to_owned());
        }
        let port = match lookup("PORT").filter(|v| !v.trim().is_empty()) {
            None => None,
            Some(raw) => match raw.trim().parse::<u16>() {
                Ok(p) => Some(p),
                Err(_) => {
                    problems.push(format!("PORT must be a number from 0 to 65535, got {raw:?}"));
                    None
                }
            },
        };
        let environment = match get("ENVIRONMENT", "development").to_ascii_lowercase().as_str() {
            "development" | "dev" => Environment::Development,
            "test" => Environment::Test,
            "production" | "prod" => Environment::Production,
            other => {
                problems.push(format!("ENVIRONMENT must be development, test or production, got {other:?}"));
                Environment::Development
            }
        };
        let ttl_raw = get("ACCESS_TOKEN_TTL_SECS", "900");
        let access_ttl = match ttl_raw.parse::<u64>() {
            Ok(s) if (1..=MAX_ACCESS_TTL_SECS).contains(&s) => Duration::from_secs(s),
            _ => {
                problems.push(format!(
                    "ACCESS_TOKEN_TTL_SECS must be 1..={MAX_ACCESS_TTL_SECS}, got {ttl_raw:?}"
                ));
                Duration::from_secs(MAX_ACCESS_TTL_SECS)
            }
        };
        let jwks_url = get("JWKS_URL", "http://127.0.0.1:8080/.well-known/jwks.json");
        if !jwks_url.starts_with("http://") && !jwks_url.starts_with("https://") {
            problems.push("JWKS_URL must be an http(s) URL".to_owned());
        }
        let pool_raw = get("DB_MAX_CONNECTIONS", "20");
        let db_max_connections = match pool_raw.parse::<u32>() {
            Ok(n) if (1..=500).contains(&n) => n,
            _ => {
                problems.push(format!("DB_MAX_CONNECTIONS must be 1..=500, got {pool_raw:?}"));
                20
            }
        };

        let lifetime_raw = get("DB_CONNECTION_LIFETIME_SECS", "3600");
        let db_connection_lifetime = match lifetime_raw.parse::<u64>() {
            Ok(secs) if (30..=86_400).contains(&secs) => Duration::from_secs(secs),
            _ => {
                problems
                    .push(format!("DB_CONNECTION_LIFETIME_SECS must be 30..=86400, got {lifetime_raw:?}"));
                Duration::from_secs(3600)
            }
        };

        let retention_raw = get("TENANT_RETENTION_DAYS", "30");
        let tenant_retention = match retention_raw.parse::<u64>() {
            Ok(days) if days <= 3650 => Duration::from_secs(days * 24 * 3600),
            _ => {
                problems.push(format!("TENANT_RETENTION_DAYS must be 0..=3650, got {retention_raw:?}"));
                Duration::ZERO
            }
        };
        let trash_raw = get("TRASH_RETENTION_DAYS", "30");
        let trash_retention = match trash_raw.parse::<u64>() {
            Ok(days) if (1..=3650).contains(&days) => Duration::from_secs(days * 24 * 3600),
            _ => {
                problems.push(format!("TRASH_RETENTION_DAYS must be 1..=3650, got {trash_raw:?}"));
                Duration::ZERO
            }
        };
        let app_base_url = get("APP_BASE_URL", "http://localhost:3000").trim_end_matches('/').to_owned();
        if !app_base_url.starts_with("http://") && !app_base_url.starts_with("https://") {
            problems.push("APP_BASE_URL must be an http(s) URL".to_owned());
        }

        let files_base_url = get("FILES_BASE_URL", "http://127.0.0.1:8082").trim_end_matches('/').to_owned();
        if !files_base_url.starts_with("http://") && !files_base_url.starts_with("https://") {
            problems.push("FILES_BASE_URL must be an http(s) URL".to_owned());
        }

        let rotation_raw = get("SIGNING_KEY_ROTATION_DAYS", "30");
        let signing_key_rotation = match rotation_raw.parse::<u64>() {
            Ok(0) => None,
            Ok(days) if days <= 3650 => Some(Duration::from_secs(days * 24 * 3600)),
            _ => {
                problems.push(format!("SIGNING_KEY_ROTATION_DAYS must be 0..=3650, got {rotation_raw:?}"));
                None
            }
        };
        let proxies_raw = get("TRUSTED_PROXIES", DEFAULT_TRUSTED_PROXIES);
        let proxies_raw = if proxies_raw.trim() == "none" { String::new() } else { proxies_raw };
        let trusted_proxies = proxies_raw.parse::<TrustedProxies>().unwrap_or_else(|err| {
            problems
                .push(format!("TRUSTED_PROXIES must list IP addresses or CIDR networks (or none): {err}"));
            TrustedProxies::default()
        });

        let smtp_url = lookup("SMTP_URL").map(|url| url.trim().to_owned()).filter(|url| !url.is_empty());
        if smtp_url.as_deref().is_some_and(|url| !url.starts_with("smtp://") && !url.starts_with("smtps://"))
        {
            problems.push("SMTP_URL must start with smtp:// or smtps://".to_owned());
        }
        let mail_from = get("MAIL_FROM", "MTenant CRM <no-reply@localhost>");
        if !mail_from.contains('@') {
            problems.push(format!("MAIL_FROM must be an address or `Name <address>`, got {mail_from:?}"));
        }
        let attempts_raw = get("MAIL_MAX_ATTEMPTS", "8");
        let max_attempts =
            attempts_raw.parse::<u32>().ok().filter(|n| (1..=50).contains(n)).unwrap_or_else(|| {
                problems.push(format!("MAIL_MAX_ATTEMPTS must be 1..=50, got {attempts_raw:?}"));
                1
            });
        let retry_raw = get("MAIL_RETRY_SECS", "60");
        let retry_after = retry_raw.parse::<u64>().ok().filter(|s| *s <= 86_400).map(Duration::from_secs);
        let retry_after = retry_after.unwrap_or_else(|| {
            problems.push(format!("MAIL_RETRY_SECS must be 0..=86400, got {retry_raw:?}"));
            Duration::ZERO
        });
        let tracking_base_url =
            get("TRACKING_BASE_URL", "http://127.0.0.1:8084").trim_end_matches('/').to_owned();
        if !tracking_base_url.starts_with("http://") && !tracking_base_url.starts_with("https://") {
            problems.push("TRACKING_BASE_URL must be an http(s) URL".to_owned());
        }
        let mail = MailSettings {
            smtp_url,
            from: mail_from,
            dir: get("MAIL_DIR", "mail").into(),
            max_attempts,
            retry_after,
            tracking_base_url,
        };

        let replicas_raw = get("NATS_STREAM_REPLICAS", "1");
        let nats_stream_replicas =
            replicas_raw.parse::<usize>().ok().filter(|n| (1..=5).contains(n)).unwrap_or_else(|| {
                problems.push(format!("NATS_STREAM_REPLICAS must be 1..=5, got {replicas_raw:?}"));
                1
            });
        let allowed_raw = get("WEBHOOK_ALLOWED_NETWORKS", "");
        let allowed_networks = allowed_raw.parse::<Networks>().unwrap_or_else(|err| {
            problems.push(format!("WEBHOOK_ALLOWED_NETWORKS must list IP addresses or CIDR networks: {err}"));
            Networks::default()
        });
        let timeout_raw = get("WEBHOOK_TIMEOUT_SECS", "10");
        let timeout =
            timeout_raw.parse::<u64>().ok().filter(|s| (1..=60).contains(s)).map(Duration::from_secs);
        let timeout = timeout.unwrap_or_else(|| {
            problems.push(format!("WEBHOOK_TIMEOUT_SECS must be 1..=60, got {timeout_raw:?}"));
            Duration::from_secs(10)
        });
        let webhooks = WebhookSettings { allowed_networks, timeout, ..WebhookSettings::default() };
        let otlp_endpoint = lookup("OTEL_EXPORTER_OTLP_ENDPOINT").filter(|url| !url.trim().is_empty());
        if let Some(url) = &otlp_endpoint
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            problems.push(format!("OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL, got {url:?}"));
        }
        let otel_service_name = lookup("OTEL_SERVICE_NAME").filter(|name| !name.trim().is_empty());

        if !problems.is_empty() {
            return Err(ConfigErrors(problems));
        }
        Ok(Self {
            database_url,
            nats_url,
            nats_stream_replicas,
            redis_url,
            port,
            log_level: get("LOG_LEVEL", "info"),
            environment,
            jwt: JwtSettings {
                issuer: get("JWT_ISSUER", "mtenant-crm"),
                audience: get("JWT_AUDIENCE", "mtenant-crm-api"),
                jwks_url,
                access_ttl,
            },
            db_max_connections,
            db_connection_lifetime,
            app_base_url,
            files_base_url,
            tenant_retention,
            trash_retention,
            trusted_proxies,
            signing_key_rotation,
            mail,
            webhooks,
            otlp_endpoint,
            otel_service_name,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigErrors> {
        let map: HashMap<String, String> =
            vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_match_the_local_stack() {
        let cfg = config(&[]).expect("defaults are valid");
        assert_eq!(cfg.nats_url, "nats://127.0.0.1:4222");
        assert_eq!(cfg.environment, Environment::Development);
        assert_eq!(cfg.jwt.access_ttl, Duration::from_secs(900));
        assert_eq!(cfg.port, None);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let err = config(&[
            ("DATABASE_URL", "mysql://x"),
            ("PORT", "eighty"),
            ("ENVIRONMENT", "staging"),
            ("ACCESS_TOKEN_TTL_SECS", "3600"),
        ])
        .expect_err("four problems");
        assert_eq!(err.0.len(), 4, "{err}");
        assert!(err.to_string().contains("PORT"));
    }
}
