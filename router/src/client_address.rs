//! Tells the subgraphs who the client is. The router overwrites `X-Forwarded-For` with the one
//! address it settled on (its peer, or what trusted proxies in front of it reported), so a client
//! cannot pick the address the per-address login limit counts against.

use std::str::FromStr;

use crm_platform::client_address::{DEFAULT_TRUSTED_PROXIES, FORWARDED_FOR, TrustedProxies};
use hive_router::async_trait;
use hive_router::ntex::http::header::{HeaderName, HeaderValue};
use hive_router::plugins::hooks::on_http_request::{OnHttpRequestHookFuture, OnHttpRequestHookPayload};
use hive_router::plugins::hooks::on_plugin_init::{OnPluginInitPayload, OnPluginInitResult};
use hive_router::plugins::plugin_trait::{RouterPlugin, StartHookPayload};

pub struct ClientAddressPlugin {
    trusted: TrustedProxies,
}

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
        mut payload: OnHttpRequestHookPayload<'req>,
    ) -> OnHttpRequestHookFuture<'req> {
        Box::pin(async move {
            let request = &mut payload.router_http_request;
            if let Some(peer) = request.peer_addr() {
                let header = HeaderName::from_static(FORWARDED_FOR);
                let forwarded: Vec<String> = request
                    .headers()
                    .get_all(&header)
                    .filter_map(|v| v.to_str().ok().map(str::to_owned))
                    .collect();
                let client = self.trusted.client(peer.ip(), forwarded.iter().map(String::as_str));
                if let Ok(value) = HeaderValue::from_str(&client.to_string()) {
                    request.headers_mut().insert(header, value);
                }
            } else {
                // No peer to vouch for anything: forward no address rather than the client's.
                request.headers_mut().remove(FORWARDED_FOR);
            }
            payload.proceed()
        })
    }
}
