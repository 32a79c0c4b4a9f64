//! Events of the communication subgraph.

use crm_platform::events::DomainEvent;
use serde::{Deserialize, Serialize};

use crate::ids::{ActivityId, ContactId, DealId};
use crate::tenant::activity::ActivityType;

/// A note, call, email or meeting was logged against a deal and/or a contact.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ActivityLogged {
    pub activity_id: ActivityId,
    pub deal_id: Option<DealId>,
    pub contact_id: Option<ContactId>,
    #[serde(rename = "type")]
    pub activity_type: ActivityType,
}

impl DomainEvent for ActivityLogged {
    const TYPE: &'static str = "activity.logged";
}
