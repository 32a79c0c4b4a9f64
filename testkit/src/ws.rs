//! A minimal graphql-transport-ws client, speaking the protocol as `graphql-ws` clients do.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub struct WsClient {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// What happened next on a socket, telling a close from mere silence.
#[derive(Debug, PartialEq)]
pub enum WsEvent {
    /// A protocol message other than ping/pong.
    Message(Value),
    /// The server closed the socket, with this close code if it sent one.
    Closed(Option<u16>),
    /// Nothing arrived in time; the socket is still open.
    Silent,
}

impl WsClient {
    /// Connects and completes `connection_init` / `connection_ack`.
    pub async fn connect(url: &str, token: Option<&str>) -> anyhow::Result<Self> {
        let mut client = Self::open(url).await?;
        client.init(token).await?;
        match client.next_message(Duration::from_secs(10)).await {
            Some(message) if message["type"] == "connection_ack" => Ok(client),
            other => anyhow::bail!("expected connection_ack, got {other:?}"),
        }
    }

    /// Opens the socket with the subprotocol and sends nothing yet.
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        Self::open_from(url, None).await
    }

    /// Like [`WsClient::open`], the upgrade naming the client at `address` as a trusted proxy
    /// would (`X-Forwarded-For`).
    pub async fn open_from(url: &str, address: Option<&str>) -> anyhow::Result<Self> {
        let mut request = url.into_client_request()?;
        request.headers_mut().insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse()?);
        if let Some(address) = address {
            request.headers_mut().insert("X-Forwarded-For", address.parse()?);
        }
        let (socket, _) = tokio_tungstenite::connect_async(request).await?;
        Ok(Self { socket })
    }

    /// Sends `connection_init`, with the token as the router forwards it.
    pub async fn init(&mut self, token: Option<&str>) -> anyhow::Result<()> {
        let payload = match token {
            Some(token) => json!({ "Authorization": format!("Bearer {token}") }),
            None => json!({}),
        };
        self.send(json!({ "type": "connection_init", "payload": payload })).await
    }

    /// The close code the server ends the socket with, skipping other messages; `None` if the
    /// socket is still open after `timeout` or ends without a close frame.
    pub async fn close_code(&mut self, timeout: Duration) -> Option<u16> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, self.socket.next()).await.ok()?? {
                Ok(Message::Close(frame)) => return frame.map(|f| u16::from(f.code)),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
    }

    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) -> anyhow::Result<()> {
        self.send(
            json!({ "id": id, "type": "subscribe", "payload": { "query": query, "variables": variables } }),
        )
        .await
    }

    pub async fn send(&mut self, message: Value) -> anyhow::Result<()> {
        self.socket.send(Message::text(message.to_string())).await?;
        Ok(())
    }

    /// The next protocol message other than ping/pong, or `None` on timeout or close (use
    /// [`WsClient::next_event`] where the two must be told apart).
    pub async fn next_message(&mut self, timeout: Duration) -> Option<Value> {
        match self.next_event(timeout).await {
            WsEvent::Message(message) => Some(message),
            WsEvent::Closed(_) | WsEvent::Silent => None,
        }
    }

    /// The next protocol message other than ping/pong, the close of the socket, or silence
    /// until `timeout`. A socket that breaks without a close frame counts as closed.
    pub async fn next_event(&mut self, timeout: Duration) -> WsEvent {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let frame = match tokio::time::timeout_at(deadline, self.socket.next()).await {
                Err(_) => return WsEvent::Silent,
                Ok(None | Some(Err(_))) => return WsEvent::Closed(None),
                Ok(Some(Ok(frame))) => frame,
            };
            let text = match frame {
                Message::Text(text) => text,
                Message::Close(frame) => return WsEvent::Closed(frame.map(|f| u16::from(f.code))),
                _ => continue,
            };
            let Ok(message) = serde_json::from_str::<Value>(text.as_str()) else {
                return WsEvent::Message(Value::String(text.to_string()));
            };
            match message["type"].as_str() {
                Some("ping") => {
                    let _ = self.send(json!({ "type": "pong" })).await;
                }
                Some("pong") => {}
                _ => return WsEvent::Message(message),
            }
        }
    }
}
