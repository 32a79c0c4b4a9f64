//! Subscriptions over `graphql-transport-ws`, with the guards async-graphql's socket lacks:
//! a `connection_init` deadline (4408), the token's `exp` and the session enforced while the
//! socket is open (4403), duplicate subscription ids refused (4409), a cap on subscriptions per
//! socket (the one over it gets an `error`, the socket stays), and a send timeout so a client
//! that stops reading cannot pin memory. A stopping server closes every socket with 1001.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_graphql::http::{
    ClientMessage, WebSocket as GraphqlSocket, WebSocketProtocols as Protocols, WsMessage,
};
use async_graphql::{Data, Executor};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until, timeout};

use crate::auth::RequestAuth;
use crate::client_address::ClientAddress;
use crate::serve::Services;

pub const PROTOCOL: &str = "graphql-transport-ws";
/// How long a client may take to send `connection_init` after the upgrade.
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);
/// Subscriptions one socket may hold at once. The router carries every subscription made with
/// the same token over one socket to the subgraph, so this is in effect a cap per token.
pub const MAX_SUBSCRIPTIONS: usize = 1000;
/// A message that cannot be written within this time means the client stopped reading.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// How often an open socket re-checks that its session still exists (logout ends sockets too).
const SESSION_CHECK: Duration = Duration::from_secs(30);

/// Who the socket belongs to, known once `connection_init` was accepted.
#[derive(Clone, Copy)]
struct Owner {
    expires_at: i64,
    tenant: crate::TenantId,
    user: crate::ids::UserId,
    session: crate::ids::SessionId,
}

type SharedOwner = Arc<Mutex<Option<Owner>>>;
type OpenIds = Arc<Mutex<HashSet<String>>>;

/// A close frame; its reason is cut to the protocol's 123 bytes at a character boundary.
fn close(code: u16, reason: &str) -> Message {
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    Message::Close(Some(CloseFrame { code, reason: reason[..end].into() }))
}

/// Serves one upgraded socket until either side closes it.
pub async fn serve<E: Executor>(socket: WebSocket, executor: E, services: Services, client: ClientAddress) {
    let (mut sink, incoming) = socket.split();
    let metrics = &*crate::metrics::METRICS;
    metrics.websockets.inc();
    // This socket's subscriptions as last added to the process-wide gauge.
    let mut counted = 0_i64;
    let owner = SharedOwner::default();
    let open_ids = OpenIds::default();
    let (refuse, mut refused) = mpsc::channel::<Message>(8);

    let client_messages = {
        let open_ids = open_ids.clone();
        incoming.take_while(|frame| std::future::ready(frame.is_ok())).filter_map(move |frame| {
            let message = match frame {
                Ok(Message::Text(text)) => Some(ClientMessage::from_bytes(text.as_bytes())),
                Ok(Message::Binary(bytes)) => Some(ClientMessage::from_bytes(bytes)),
                _ => None,
            };
            let verdict = match &message {
                Some(Ok(message)) => admit(message, &open_ids),
                _ => None,
            };
            if let Some(refusal) = verdict {
                let _ = refuse.try_send(refusal);
                return std::future::ready(None);
            }
            std::future::ready(message)
        })
    };
    let on_init = {
        let owner = owner.clone();
        let services = services.clone();
        move |payload: serde_json::Value| async move {
            let authorization = crate::graphql::authorization_from_payload(&payload);
            match crate::graphql::authenticate(&services, authorization.as_deref()).await {
                RequestAuth::Verified(caller) => {
                    let claims = &caller.claims;
                    *owner.lock().expect("owner lock") = Some(Owner {
                        expires_at: claims.exp,
                        tenant: claims.tenant,
                        user: claims.sub,
                        session: claims.sid,
                    });
                    let mut data = Data::default();
                    data.insert(RequestAuth::Verified(caller));
                    data.insert(client);
                    Ok(data)
                }
                _ => Err(async_graphql::Error::new(INIT_REFUSED)),
            }
        }
    };
    let mut outgoing = Box::pin(
        GraphqlSocket::from_message_stream(executor, client_messages, Protocols::GraphQLWS)
            .on_connection_init(on_init),
    );

    let init_deadline = Instant::now() + INIT_TIMEOUT;
    let mut acked = false;
    let mut session_check = tokio::time::interval_at(Instant::now() + SESSION_CHECK, SESSION_CHECK);
    loop {
        let current = *owner.lock().expect("owner lock");
        let expiry = current.map_or(init_deadline, |o| instant_of(o.expires_at));
        let message = tokio::select! {
            next = outgoing.next() => match next {
                Some(message) => translate(message, &open_ids, &mut acked),
                None => break,
            },
            Some(refusal) = refused.recv() => refusal,
            () = services.shutdown.cancelled() => close(1001, "The server is stopping; reconnect"),
            () = sleep_until(init_deadline), if !acked => close(4408, "Connection initialisation timeout"),
            () = sleep_until(expiry), if current.is_some() => {
                close(4403, "Token expired; reconnect with a fresh token")
            }
            _ = session_check.tick(), if current.is_some() => match current {
                Some(o) => match services.sessions.touch(o.tenant, o.user, o.session).await {
                    Ok(true) => continue,
                    Ok(false) => close(4403, "Session ended"),
                    Err(_) => close(1013, "Sessions are unavailable; try again shortly"),
                },
                None => continue,
            },
        };
        let open = open_ids.lock().expect("ids lock").len() as i64;
        metrics.subscriptions.add(open - counted);
        counted = open;
        let closing = matches!(message, Message::Close(_));
        let sent = matches!(timeout(SEND_TIMEOUT, sink.send(message)).await, Ok(Ok(())));
        if closing || !sent {
            break;
        }
    }
    let _ = timeout(SEND_TIMEOUT, sink.close()).await;
    metrics.subscriptions.sub(counted);
    metrics.websockets.dec();
}

/// The message async-graphql closes with (1002) when `connection_init` is refused.
const INIT_REFUSED: &str = "Forbidden";

/// Checks a client message against the socket's subscriptions; `Some(answer)` refuses it: a
/// close for a protocol violation, an `error` for that subscription alone when the socket holds
/// as many as it may (the others carry on).
fn admit(message: &ClientMessage, open_ids: &OpenIds) -> Option<Message> {
    let mut ids = open_ids.lock().expect("ids lock");
    match message {
        ClientMessage::Start { id, .. } => {
            if ids.contains(id) {
                Some(close(4409, &format!("Subscriber for {id} already exists")))
            } else if ids.len() >= MAX_SUBSCRIPTIONS {
                let error = serde_json::json!({ "id": id, "type": "error", "payload": [{
                    "message": format!("at most {MAX_SUBSCRIPTIONS} subscriptions per token at once; end some first"),
                    "extensions": { "code": "RATE_LIMITED" },
                }] });
                Some(Message::Text(error.to_string().into()))
            } else {
                ids.insert(id.clone());
                None
            }
        }
        ClientMessage::Stop { id } => {
            ids.remove(id);
            None
        }
        _ => None,
    }
}

/// Turns async-graphql's output into a frame, noting the ack and finished subscriptions, and
/// giving its generic close codes the ones graphql-transport-ws defines.
fn translate(message: WsMessage, open_ids: &OpenIds, acked: &mut bool) -> Message {
    match message {
        WsMessage::Text(text) => {
            if let Some(kind) = message_type(&text) {
                match kind {
                    "connection_ack" => *acked = true,
                    "complete" | "error" => {
                        if let Some(id) = message_id(&text) {
                            open_ids.lock().expect("ids lock").remove(&id);
                        }
                    }
                    _ => {}
                }
            }
            Message::Text(text.into())
        }
        WsMessage::Close(1002, reason) if reason == INIT_REFUSED => close(4403, INIT_REFUSED),
        WsMessage::Close(1011, _) => close(4401, "Unauthorized"),
        WsMessage::Close(code, reason) => close(code, &reason),
    }
}

/// The `type` of a server message; async-graphql writes it first, so "next" frames (the bulk)
/// are recognised without parsing their payload.
fn message_type(text: &str) -> Option<&str> {
    let rest = text.strip_prefix(r#"{"type":""#)?;
    rest.split('"').next()
}

fn message_id(text: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct WithId {
        id: String,
    }
    serde_json::from_str::<WithId>(text).ok().map(|m| m.id)
}

/// The monotonic instant of a Unix timestamp (seconds); past timestamps give "now".
fn instant_of(unix_seconds: i64) -> Instant {
    let now = chrono::Utc::now().timestamp_millis();
    let left = (unix_seconds.saturating_mul(1000) - now).max(0);
    Instant::now() + Duration::from_millis(left as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_message_types_are_read_from_the_prefix() {
        assert_eq!(message_type(r#"{"type":"next","id":"1","payload":{}}"#), Some("next"));
        assert_eq!(message_type(r#"{"type":"complete","id":"a"}"#), Some("complete"));
        assert_eq!(message_id(r#"{"type":"complete","id":"a"}"#).as_deref(), Some("a"));
        assert_eq!(message_type("[]"), None);
    }

    #[test]
    fn duplicate_ids_and_too_many_subscriptions_are_refused() {
        let ids = OpenIds::default();
        let start = |id: &str| -> ClientMessage {
            ClientMessage::from_bytes(
                serde_json::json!({ "type": "subscribe", "id": id, "payload": { "query": "subscription { x }" } })
                    .to_string(),
            )
            .expect("message")
        };
        assert!(admit(&start("a"), &ids).is_none());
        let Some(Message::Close(Some(frame))) = admit(&start("a"), &ids) else { panic!("refused") };
        assert_eq!(frame.code, 4409);
        let stop = ClientMessage::from_bytes(r#"{"type":"complete","id":"a"}"#).expect("message");
        assert!(admit(&stop, &ids).is_none());
        assert!(admit(&start("a"), &ids).is_none(), "a finished id may be reused");
        for n in 1..MAX_SUBSCRIPTIONS {
            assert!(admit(&start(&n.to_string()), &ids).is_none());
        }
        let Some(Message::Text(refusal)) = admit(&start("one more"), &ids) else { panic!("capped") };
        let refusal: serde_json::Value = serde_json::from_str(refusal.as_str()).expect("json");
        assert_eq!((refusal["type"].as_str(), refusal["id"].as_str()), (Some("error"), Some("one more")));
        assert_eq!(refusal["payload"][0]["extensions"]["code"], "RATE_LIMITED");
        assert!(!ids.lock().expect("ids").contains("one more"));
        let fresh = OpenIds::default();
        let long_id = "é".repeat(200);
        assert!(admit(&start(&long_id), &fresh).is_none());
        let Some(Message::Close(Some(frame))) = admit(&start(&long_id), &fresh) else { panic!("refused") };
        assert_eq!(frame.code, 4409);
        assert!(frame.reason.len() <= 123, "a close reason fits the frame");
    }
}
