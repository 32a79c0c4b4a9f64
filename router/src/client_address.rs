//! Tells the subgraphs who the client is. The router settles on one address per HTTP request
//! (its peer, or what proxies listed in `TRUSTED_PROXIES` reported) and sets it as the only
//! `X-Forwarded-For` of every subgraph request made for it, so a client cannot pick the address
//! the per-address limits count against. Operations sent over the router's websocket share the
//! plugin context of its upgrade request, so they carry the address settled on then; the
//! `connection_init` fields the router turns into headers never supply one.

use std::str::FromStr;

use crm_platform::client_address::{DEFAULT_TRUSTED_PROXIES, FORWARDED_FOR, TrustedProxies};
use hive_router::async_trait;
use hive_router::http::HeaderValue;
use hive_router::ntex::http::header::HeaderName;
use hive_router::plugins::hooks::on_http_request::{OnHttpRequestHookFuture, OnHttpRequestHookPayload};
use hive_router::plugins::hooks::on_plugin_init::{OnPluginInitPayload, OnPluginInitResult};
use hive_router::plugins::hooks::on_subgraph_http_request::{
    OnSubgraphHttpRequestHookPayload, OnSubgraphHttpRequestHookResult,
};
use hive_router::plugins::plugin_trait::{RouterPlugin, StartHookPayload};

pub struct ClientAddressPlugin {
    trusted: TrustedProxies,
}

/// The address the router vouches for, kept for the request's subgraph calls.
struct VouchedClient(HeaderValue);

#[async_trait]
impl RouterPlugin for ClientAddressPlugin {
    type Config = serde_json::Value;

    fn plugin_name() -> &'static str {
        "client_address"
    }

    fn on_plugin_init(payload: OnPluginInitPayload<Self>) -> OnPluginInitResult<Self> {
        let raw = std::env::var("TRUSTED_PROXIES")
            .ok()
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_TRUSTED_PROXIES.to_owned());
        let raw = if raw.trim() == "none" { String::new() } else { raw };
        let trusted = TrustedProxies::from_str(&raw).map_err(|err| format!("TRUSTED_PROXIES: {err}"))?;
        payload.initialize_plugin(Self { trusted })
    }

    fn on_http_request<'req>(
        &'req self,
        payload: OnHttpRequestHookPayload<'req>,
    ) -> OnHttpRequestHookFuture<'req> {
        Box::pin(async move {
            let request = &payload.router_http_request;
            if let Some(peer) = request.peer_addr() {
                let header = HeaderName::from_static(FORWARDED_FOR);
                let forwarded: Vec<String> = request
                    .headers()
                    .get_all(&header)
                    .filter_map(|v| v.to_str().ok().map(str::to_owned))
                    .collect();
                let client = self.trusted.client(peer.ip(), forwarded.iter().map(String::as_str));
                if let Ok(value) = HeaderValue::from_str(&client.to_string()) {
                    payload.context.insert(VouchedClient(value));
                }
            }
            payload.proceed()
        })
    }

    async fn on_subgraph_http_request<'exec>(
        &'exec self,
        mut payload: OnSubgraphHttpRequestHookPayload<'exec>,
    ) -> OnSubgraphHttpRequestHookResult<'exec> {
        let vouched = payload.context.get_ref::<VouchedClient>().map(|client| client.0.clone());
        let headers = &mut payload.execution_request.headers;
        headers.remove(FORWARDED_FOR);
        if let Some(client) = vouched {
            headers.insert(FORWARDED_FOR, client);
        }
        payload.proceed()
    }
}
