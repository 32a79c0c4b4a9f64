#[tokio::main]
async fn main() -> std::process::ExitCode {
    crm_platform::serve::run(&[crm_auth::SUBGRAPH]).await
}
