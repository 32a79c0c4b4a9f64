//! Organization settings: validated on write, cached in Redis for the seed's 24 hours under the
//! tenant's key, invalidated on every write. Redis is only a cache here: when it cannot answer,
//! reads go to Postgres.

use std::time::Duration;

use crm_entities::global::tenant;
use crm_platform::kv::Kv;
use crm_platform::{ApiError, ApiResult, Db, TenantId, text};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbBackend, EntityTrait, Set, Statement};

const CACHE_TTL: Duration = Duration::from_secs(24 * 3600);

/// Active ISO 4217 currency codes.
const CURRENCIES: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN", "BHD",
    "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHF", "CLP", "CNY",
    "COP", "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP",
    "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR",
    "IQD", "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT",
    "LAK", "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR",
    "MVR", "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK",
    "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD",
    "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY",
    "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU", "UZS", "VES", "VND", "VUV", "WST", "XAF", "XCD", "XCG",
    "XOF", "XPF", "YER", "ZAR", "ZMW", "ZWG",
];

/// A validated change; `None` keeps the current value.
#[derive(Default)]
pub struct SettingsChange {
    pub name: Option<String>,
    pub timezone: Option<String>,
    pub currency: Option<String>,
    pub locale: Option<String>,
    pub fiscal_year_start_month: Option<i16>,
}

pub fn parse_currency(raw: &str) -> ApiResult<String> {
    let code = raw.trim().to_ascii_uppercase();
    if CURRENCIES.contains(&code.as_str()) {
        Ok(code)
    } else {
        Err(ApiError::bad_input("currency", "currency must be an ISO 4217 code such as EUR"))
    }
}

/// A BCP 47 tag of the common shapes: `en`, `en-US`, `zh-Hant-TW`.
pub fn parse_locale(raw: &str) -> ApiResult<String> {
    let raw = raw.trim();
    let mut parts = raw.split('-');
    let language = parts.next().unwrap_or_default();
    let language_ok = (2..=3).contains(&language.len()) && language.bytes().all(|b| b.is_ascii_lowercase());
    let rest_ok = parts.all(|p| {
        (p.len() == 2 && p.bytes().all(|b| b.is_ascii_uppercase()))
            || (p.len() == 4 && p.bytes().next().is_some_and(|b| b.is_ascii_uppercase()))
            || (p.len() == 3 && p.bytes().all(|b| b.is_ascii_digit()))
    });
    if language_ok && rest_ok && raw.len() <= 35 {
        Ok(raw.to_owned())
    } else {
        Err(ApiError::bad_input("locale", "locale must be a BCP 47 tag such as en-US"))
    }
}

pub fn parse_month(month: i32) -> ApiResult<i16> {
    match i16::try_from(month) {
        Ok(m) if (1..=12).contains(&m) => Ok(m),
        _ => Err(ApiError::bad_input("fiscalYearStartMonth", "fiscalYearStartMonth must be 1 to 12")),
    }
}

pub fn parse_name(name: &str) -> ApiResult<String> {
    text::required("name", name, 200)
}

/// Postgres carries the IANA database; asking it keeps us from shipping a copy.
pub(crate) async fn check_timezone(db: &Db, timezone: &str) -> ApiResult<()> {
    let known = db
        .conn()
        .query_one(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT 1 FROM pg_timezone_names WHERE name = $1",
            [timezone.into()],
        ))
        .await?
        .is_some();
    if known && timezone.len() <= 64 {
        Ok(())
    } else {
        Err(ApiError::bad_input("timezone", "timezone must be an IANA name such as Europe/Paris"))
    }
}

fn cache_key(tenant: TenantId) -> String {
    format!("t:{tenant}:settings")
}

/// The organization, from the cache when it has it.
pub async fn load(db: &Db, kv: &Kv, tenant: TenantId) -> ApiResult<Option<tenant::Model>> {
    let mut get = redis::pipe();
    get.get(cache_key(tenant));
    if let Ok((Some(cached),)) = kv.run::<(Option<String>,)>(&get).await
        && let Ok(model) = serde_json::from_str::<tenant::Model>(&cached)
    {
        return Ok(Some(model));
    }
    let model = tenant::Entity::find_by_id(tenant.0).one(db.conn()).await?;
    if let Some(model) = &model
        && let Ok(json) = serde_json::to_string(model)
    {
        let mut set = redis::pipe();
        set.set_ex(cache_key(tenant), json, CACHE_TTL.as_secs()).ignore();
        // A cache that cannot be filled is only slower.
        let _ = kv.run::<()>(&set).await;
    }
    Ok(model)
}

async fn drop_cached(kv: &Kv, tenant: TenantId) -> ApiResult<()> {
    let mut del = redis::pipe();
    del.del(cache_key(tenant)).ignore();
    Ok(kv.run::<()>(&del).await?)
}

/// Applies `change` and drops the cached copy. The copy is dropped before the write (a write
/// that cannot invalidate is refused, so no stale copy outlives it) and again after it (a reader
/// may have re-cached the old row in between).
pub async fn update(db: &Db, kv: &Kv, tenant: TenantId, change: SettingsChange) -> ApiResult<tenant::Model> {
    if let Some(timezone) = &change.timezone {
        check_timezone(db, timezone).await?;
    }
    drop_cached(kv, tenant).await?;
    let mut active = tenant::ActiveModel { id: Set(tenant.0), ..Default::default() };
    if let Some(name) = change.name {
        active.name = Set(name);
    }
    if let Some(timezone) = change.timezone {
        active.timezone = Set(timezone);
    }
    if let Some(currency) = change.currency {
        active.currency = Set(currency);
    }
    if let Some(locale) = change.locale {
        active.locale = Set(locale);
    }
    if let Some(month) = change.fiscal_year_start_month {
        active.fiscal_year_start_month = Set(month);
    }
    let updated = if active.is_changed() {
        active.update(db.conn()).await?
    } else {
        tenant::Entity::find_by_id(tenant.0).one(db.conn()).await?.ok_or(ApiError::NotFound("tenant"))?
    };
    if drop_cached(kv, tenant).await.is_err() {
        tracing::warn!(tenant.id = %tenant, "settings cache not dropped after a write; it expires within 24 h");
    }
    Ok(updated)
}
