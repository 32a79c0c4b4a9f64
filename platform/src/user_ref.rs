//! `User` as other subgraphs than auth point at it: the id alone, which the router resolves
//! with the auth subgraph.

use async_graphql::{ID, Object};

use crate::ids::UserId;

/// A member of the organization, resolved by the auth subgraph.
pub struct UserRef(pub UserId);

#[Object(name = "User", unresolvable = "id")]
impl UserRef {
    async fn id(&self) -> ID {
        self.0.into()
    }
}

impl UserRef {
    /// The user a stored id names, if any.
    pub fn of(id: Option<uuid::Uuid>) -> Option<Self> {
        id.map(|id| Self(UserId(id)))
    }
}
