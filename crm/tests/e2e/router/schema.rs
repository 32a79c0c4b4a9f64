//! The committed supergraph and client schema match the subgraphs' code.

use std::path::Path;
use std::process::Command;

#[test]
fn composed_schemas_are_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root");
    let output = Command::new(env!("CARGO_BIN_EXE_crm"))
        .args(["schema", "--check"])
        .current_dir(root)
        .output()
        .expect("run crm schema --check");
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
