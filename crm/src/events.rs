//! `crm events …`: the dead letters of the event consumers, listed and run again.

use anyhow::Context;
use async_nats::jetstream;
use chrono::{DateTime, Utc};
use crm_platform::config::Config;
use crm_platform::{consumer, dead_letters};

/// `crm events dead-letters`: one line per dead letter, oldest first.
pub async fn list(consumer: Option<String>, since: Option<DateTime<Utc>>) -> anyhow::Result<()> {
    if let Some(name) = &consumer {
        known(name)?;
    }
    let config = Config::from_env()?;
    let js = jetstream::new(connect_nats(&config).await?);
    let letters = dead_letters::list(&js, consumer.as_deref(), since).await?;
    for letter in &letters {
        let event = serde_json::from_slice::<serde_json::Value>(&letter.payload)
            .ok()
            .and_then(|envelope| envelope.get("id").and_then(|id| id.as_str()).map(str::to_owned))
            .unwrap_or_else(|| "-".to_owned());
        println!(
            "{}  #{}  {}  {}  event {}  {} deliveries  {}",
            letter.time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            letter.sequence,
            letter.consumer,
            letter.subject,
            event,
            letter.deliveries,
            letter.reason,
        );
    }
    println!("{} dead letter(s)", letters.len());
    Ok(())
}

/// `crm events replay`: runs the consumer's handler again on its dead letters.
pub async fn replay(name: &str, since: Option<DateTime<Utc>>) -> anyhow::Result<()> {
    let consumer = known(name)?;
    let config = Config::from_env()?;
    crm_platform::telemetry::init(&config, "crm-cli");
    let db =
        crm_platform::Db::connect(&config.database_url, 2).await.context("connecting to the database")?;
    let js = jetstream::new(connect_nats(&config).await?);
    let report = consumer::replay_dead_letters(&db, &js, consumer, since).await?;
    for (sequence, reason) in &report.still_failing {
        println!("#{sequence} failed again: {reason}");
    }
    println!("{} replayed, {} still failing", report.replayed, report.still_failing.len());
    anyhow::ensure!(report.still_failing.is_empty(), "some dead letters failed again and were kept");
    Ok(())
}

fn known(name: &str) -> anyhow::Result<consumer::Consumer> {
    crm_subgraphs::consumer(name).ok_or_else(|| {
        let names: Vec<_> = crm_subgraphs::consumers().map(|consumer| consumer.name).collect();
        anyhow::anyhow!("no consumer is named {name}; the consumers are: {}", names.join(", "))
    })
}

async fn connect_nats(config: &Config) -> anyhow::Result<async_nats::Client> {
    async_nats::connect(config.nats_url.as_str())
        .await
        .with_context(|| format!("connecting to {}", config.nats_url))
}
