//! Tracing: JSON lines in production (for log shippers), compact text elsewhere.

use tracing_subscriber::EnvFilter;

use crate::config::{Config, Environment};

/// Installs the global subscriber once; later calls (tests, several subgraphs) are no-ops.
pub fn init(config: &Config) {
    // sqlx logs every statement at INFO: keep that out unless the filter asks for sqlx.
    let directives = if config.log_level.contains("sqlx") {
        config.log_level.clone()
    } else {
        format!("{},sqlx=warn", config.log_level)
    };
    let filter = EnvFilter::try_new(&directives).unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(true);
    let result = match config.environment {
        Environment::Production => builder.json().flatten_event(true).try_init(),
        Environment::Development | Environment::Test => builder.compact().try_init(),
    };
    drop(result);
}
