//! `crm import contacts FILE --organization SUBDOMAIN`: an import run by an operator, with a
//! progress bar and the same per-row report the API gives.

use std::process::ExitCode;

use crm_contact::imports::cli::import_file;
use crm_entities::tenant::contact_import::{Dedupe, ImportStatus};
use crm_platform::{Config, Db};

use crate::progress;

/// Reported rows printed; the rest are counted.
const PRINTED_ROWS: usize = 100;

pub async fn contacts(file: &std::path::Path, organization: &str, dry_run: bool, dedupe: &str) -> ExitCode {
    match run(file, organization, dry_run, dedupe).await {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(
    file: &std::path::Path,
    organization: &str,
    dry_run: bool,
    dedupe: &str,
) -> anyhow::Result<ExitCode> {
    let config = Config::from_env()?;
    crm_platform::telemetry::init(&config, "crm-cli");
    let db = Db::connect(&config.database_url, 4).await?;
    // Contacts an import updates are dropped from the running subgraphs' cache.
    let kv = std::sync::Arc::new(crm_platform::kv::Kv::new(redis::Client::open(config.redis_url.as_str())?));
    let dedupe = match dedupe {
        "update" => Dedupe::Update,
        "none" => Dedupe::None,
        _ => Dedupe::Skip,
    };
    let size = std::fs::metadata(file)?.len();
    let bar = progress::bar("importing contacts (bytes read)");
    bar.set_length(size);
    let shown = bar.clone();
    let outcome = import_file(
        &db,
        kv,
        organization,
        file,
        dedupe,
        dry_run,
        Box::new(move |import| {
            shown.set_position(import.next_offset as u64);
        }),
    )
    .await?;
    bar.finish_and_clear();
    let import = &outcome.import;
    if import.status == ImportStatus::Failed {
        eprintln!("import failed: {}", import.error.as_deref().unwrap_or("unknown reason"));
        return Ok(ExitCode::FAILURE);
    }
    println!(
        "{}{} rows: {} imported, {} updated, {} skipped as duplicates, {} not taken",
        if dry_run { "dry run, nothing written. " } else { "" },
        import.total,
        import.imported,
        import.updated,
        import.skipped,
        import.failed
    );
    for row in outcome.reported.iter().take(PRINTED_ROWS) {
        let column = row.column.as_deref().map(|c| format!(" [{c}]")).unwrap_or_default();
        println!("line {}{column}: {}", row.line, row.reason);
    }
    if import.failed as usize > PRINTED_ROWS {
        println!(
            "… and {} more; `contactImport(id: \"{}\") {{ errors }}` lists them all",
            import.failed as usize - PRINTED_ROWS,
            import.id
        );
    }
    Ok(ExitCode::SUCCESS)
}
