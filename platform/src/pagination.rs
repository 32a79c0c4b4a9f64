//! Cursor pagination shared by every list. Ids are UUIDv7 (time-ordered), so the id itself is
//! the keyset cursor: newest first means `id < cursor ORDER BY id DESC`.

use async_graphql::SimpleObject;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};

pub const DEFAULT_PAGE_SIZE: u64 = 20;
pub const MAX_PAGE_SIZE: u64 = 100;

/// Relay-style page info; shareable because every subgraph's connections return it.
#[derive(SimpleObject, Clone, Debug, Default)]
#[graphql(shareable)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub end_cursor: Option<String>,
}

/// A validated request for one page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PageRequest {
    pub size: u64,
    pub after: Option<Uuid>,
}

impl PageRequest {
    pub fn parse(first: Option<i32>, after: Option<&str>) -> ApiResult<Self> {
        let size = match first {
            None => DEFAULT_PAGE_SIZE,
            Some(n) if n >= 1 && (n as u64) <= MAX_PAGE_SIZE => n as u64,
            Some(_) => {
                return Err(ApiError::bad_input(
                    "first",
                    format!("first must be between 1 and {MAX_PAGE_SIZE}"),
                ));
            }
        };
        let after = after.map(decode_cursor).transpose()?;
        Ok(Self { size, after })
    }

    /// Rows to fetch: one more than the page, to learn whether another page follows.
    pub fn fetch_limit(&self) -> u64 {
        self.size + 1
    }
}

pub fn encode_cursor(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}

pub fn decode_cursor(cursor: &str) -> ApiResult<Uuid> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| Uuid::from_slice(&bytes).ok())
        .ok_or_else(|| ApiError::bad_input("after", "after is not a valid cursor"))
}

/// Cuts the over-fetched row off and reports whether it existed.
pub fn split_page<T>(mut rows: Vec<T>, page: &PageRequest) -> (Vec<T>, bool) {
    let has_next = rows.len() as u64 > page.size;
    rows.truncate(page.size as usize);
    (rows, has_next)
}

/// Declares `$connection { edges: [$edge!]!, pageInfo }` and `$edge { cursor, node: $node }` for
/// a node type whose id (a UUIDv7) is its cursor.
#[macro_export]
macro_rules! connection {
    ($connection:ident, $edge:ident, $node:ty) => {
        #[derive(async_graphql::SimpleObject)]
        pub struct $edge {
            pub cursor: String,
            pub node: $node,
        }

        #[derive(async_graphql::SimpleObject)]
        pub struct $connection {
            pub edges: Vec<$edge>,
            pub page_info: $crate::pagination::PageInfo,
        }

        impl $connection {
            pub fn new(nodes: Vec<(uuid::Uuid, $node)>, has_next_page: bool) -> Self {
                let edges: Vec<$edge> = nodes
                    .into_iter()
                    .map(|(id, node)| $edge { cursor: $crate::pagination::encode_cursor(id), node })
                    .collect();
                let end_cursor = edges.last().map(|edge| edge.cursor.clone());
                Self { edges, page_info: $crate::pagination::PageInfo { has_next_page, end_cursor } }
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_size_is_bounded() {
        assert_eq!(PageRequest::parse(None, None).expect("default").size, DEFAULT_PAGE_SIZE);
        for bad in [0, -1, 101, 99_999_999] {
            assert!(PageRequest::parse(Some(bad), None).is_err(), "{bad}");
        }
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_bad_input() {
        let id = Uuid::now_v7();
        assert_eq!(decode_cursor(&encode_cursor(id)).expect("valid"), id);
        assert_eq!(decode_cursor("%%%").expect_err("garbage").code(), "BAD_USER_INPUT");
    }
}
