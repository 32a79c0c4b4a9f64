//! `crm`: one binary for the whole product.
//!
//! - `crm up` — create the database if missing, migrate, run the five subgraphs (8080–8084),
//!   the router (4000) and the web app's origin (3000) until Ctrl-C.
//! - `crm serve <subgraph>…` — run some subgraphs in this process (one per deployment, say).
//! - `crm router` — run the federation router (config path in `ROUTER_CONFIG_FILE_PATH`).
//! - `crm web` — the web app's origin alone (`WEB_PORT`, `WEB_DIST`, `ROUTER_URL`, `FILES_URL`,
//!   `TRACKING_URL`).
//! - `crm migrate` — apply global and tenant template migrations.
//! - `crm schema [--check]` — compose `router/supergraph.graphql` and `schema.graphql`.
//! - `crm seed --demo [--organization SUBDOMAIN]` — an organization full of demo data.
//! - `crm rotate-keys [--now]` — replace the token signing key (published first, then signing).
//! - `crm events dead-letters [--consumer NAME] [--since TIME]` — events consumers gave up on.
//! - `crm events replay --consumer NAME [--since TIME]` — run that consumer on them again.

#![recursion_limit = "256"]

mod database;
mod events;
mod import;
mod progress;
mod schema;
mod seed;
mod up;
mod web;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use crm_router::RouterGlobalAllocator;

crm_router::configure_global_allocator!();

#[derive(Parser)]
#[command(name = "crm", version, about = "MTenant CRM: federated GraphQL CRM")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run everything: migrations, the five subgraphs and the router.
    Up,
    /// Run the named subgraphs (auth, tenant, contact, deal, communication) in this process.
    Serve {
        #[arg(required = true, value_parser = clap::builder::PossibleValuesParser::new(crm_subgraphs::names()))]
        subgraphs: Vec<String>,
    },
    /// Run the federation router.
    Router,
    /// Serve the built web app and forward `/graphql`, `/files/` and `/track/` (the one origin
    /// `crm up` runs on :3000; in a deployment, its own service).
    Web,
    /// Create the database if missing and apply all migrations.
    Migrate,
    /// Replace the token signing key: the new key is published at once and signs after five
    /// minutes; the old one stays published until the tokens it signed have expired.
    RotateKeys {
        /// Sign with the new key at once and withdraw every other key (a suspected compromise:
        /// tokens signed before stop working).
        #[arg(long)]
        now: bool,
    },
    /// The dead letters: events a consumer gave up on, and running them again.
    Events {
        #[command(subcommand)]
        what: Events,
    },
    /// Import records from a file.
    Import {
        #[command(subcommand)]
        what: Import,
    },
    /// Fill a new organization with demo data through the running product's API (`crm up`),
    /// and print how to sign in to it.
    Seed {
        /// Companies, contacts, deals over two pipelines with months of history, activities,
        /// tasks and templates.
        #[arg(long, required = true)]
        demo: bool,
        /// The new organization's subdomain (default: demo-NNNN).
        #[arg(long)]
        organization: Option<String>,
    },
    /// Compose the supergraph and the client schema from the subgraphs' SDL.
    Schema {
        /// Fail if the committed files differ instead of writing them.
        #[arg(long)]
        check: bool,
    },
}

#[derive(Subcommand)]
enum Events {
    /// List the dead letters, oldest first: time, number, consumer, subject, event id,
    /// deliveries and the reason it was given up.
    DeadLetters {
        /// Only this consumer's.
        #[arg(long)]
        consumer: Option<String>,
        /// Only those dead-lettered at or after this time (RFC 3339, e.g. 2026-11-30T09:00:00Z).
        #[arg(long)]
        since: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// Run a consumer again on its dead letters, in the order they died; each one handled is
    /// removed from the dead letters, and events it handled before are skipped (its ledger).
    Replay {
        #[arg(long)]
        consumer: String,
        #[arg(long)]
        since: Option<chrono::DateTime<chrono::Utc>>,
    },
}

#[derive(Subcommand)]
enum Import {
    /// Contacts from a CSV file (UTF-8, `,` or `;`, a header row), with a report of every row
    /// that was not taken.
    Contacts {
        file: std::path::PathBuf,
        /// The organization's subdomain.
        #[arg(long)]
        organization: String,
        /// Check and count every row, write nothing.
        #[arg(long)]
        dry_run: bool,
        /// What to do with rows matching an existing contact: skip, update or none (import anyway).
        #[arg(long, default_value = "skip", value_parser = ["skip", "update", "none"])]
        dedupe: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Router = cli.command {
        // The router owns its runtime and its tracing; nothing of ours may start first.
        return crm_router::run();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        match cli.command {
            Command::Up => up::run().await,
            Command::Serve { subgraphs } => crm_platform::serve::run(&crm_subgraphs::named(&subgraphs)).await,
            Command::Migrate => report(database::migrate_from_env().await),
            Command::Schema { check } => report(schema::compose(check)),
            Command::RotateKeys { now } => report(database::rotate_keys(now).await),
            Command::Events { what: Events::DeadLetters { consumer, since } } => {
                report(events::list(consumer, since).await)
            }
            Command::Events { what: Events::Replay { consumer, since } } => {
                report(events::replay(&consumer, since).await)
            }
            Command::Import { what: Import::Contacts { file, organization, dry_run, dedupe } } => {
                import::contacts(&file, &organization, dry_run, &dedupe).await
            }
            Command::Seed { demo: _, organization } => seed::demo(organization).await,
            Command::Web => report(web::serve_from_env().await),
            Command::Router => unreachable!("handled before the runtime starts"),
        }
    })
}

fn report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
