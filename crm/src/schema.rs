//! `crm schema`: exports each subgraph's federation SDL and composes the supergraph (for the
//! router) and the client schema (for codegen) with `router/compose/compose.mjs`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

const SUPERGRAPH: &str = "router/supergraph.graphql";
const CLIENT_SCHEMA: &str = "schema.graphql";

/// Composes into a scratch directory, then writes the results over the committed files — or,
/// with `check`, fails when they differ.
pub fn compose(check: bool) -> anyhow::Result<()> {
    let root = std::env::current_dir()?;
    let script = root.join("router/compose/compose.mjs");
    anyhow::ensure!(
        script.exists(),
        "run this from the repository root (router/compose/compose.mjs not found)"
    );
    anyhow::ensure!(
        root.join("router/compose/node_modules").exists(),
        "composition needs its npm packages: run `npm ci --prefix router/compose`"
    );
    let scratch = std::env::temp_dir().join(format!("crm-schema-{}", std::process::id()));
    let composed = compose_into(&script, &scratch)?;
    let mut stale = Vec::new();
    for (generated, committed) in composed.iter().zip([SUPERGRAPH, CLIENT_SCHEMA]) {
        let target = root.join(committed);
        let new = std::fs::read_to_string(generated)?;
        let old = std::fs::read_to_string(&target).unwrap_or_default();
        if new != old {
            if check {
                stale.push(committed);
            } else {
                std::fs::write(&target, new).with_context(|| format!("writing {committed}"))?;
                println!("wrote {committed}");
            }
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    if !stale.is_empty() {
        bail!("{} out of date with the subgraphs: run `cargo run -- schema` and commit", stale.join(" and "));
    }
    if check {
        println!("{SUPERGRAPH} and {CLIENT_SCHEMA} are current");
    }
    Ok(())
}

fn compose_into(script: &Path, dir: &Path) -> anyhow::Result<[PathBuf; 2]> {
    std::fs::create_dir_all(dir)?;
    let mut urls = serde_json::Map::new();
    for subgraph in crm_subgraphs::ALL {
        std::fs::write(dir.join(format!("{}.graphql", subgraph.name)), (subgraph.sdl)())?;
        let url = format!("http://127.0.0.1:{}/graphql", subgraph.default_port);
        urls.insert(subgraph.name.to_owned(), url.into());
    }
    std::fs::write(dir.join("urls.json"), serde_json::to_string_pretty(&urls)?)?;
    let outputs = [dir.join("supergraph.graphql"), dir.join("schema.graphql")];
    let status = Command::new("node")
        .arg(script)
        .arg(dir)
        .args(&outputs)
        .status()
        .context("running node (Node.js 20+ is needed for composition)")?;
    anyhow::ensure!(status.success(), "composition failed (see the errors above)");
    Ok(outputs)
}
