use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::Value;

use crate::stack::TestStack;

/// The envelopes of `event_type` that tenant `tenant_id` wrote to the outbox, oldest first:
/// what a mailer would receive (reset and invitation links, say).
pub async fn outbox_events(stack: &TestStack, tenant_id: &str, event_type: &str) -> Vec<Value> {
    let tenant = uuid::Uuid::parse_str(tenant_id).expect("tenant id");
    let rows = stack
        .db
        .conn()
        .query_all(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT payload FROM crm.outbox WHERE tenant_id = $1 AND payload->>'type' = $2 ORDER BY created_at, id",
            [tenant.into(), event_type.into()],
        ))
        .await
        .expect("read outbox");
    rows.iter().map(|row| row.try_get_by_index::<Value>(0).expect("payload")).collect()
}

/// The `token` query parameter of a link.
pub fn link_token(link: &str) -> String {
    link.split("token=").nth(1).expect("token in link").to_owned()
}
