//! Events of the contact subgraph.

use crm_platform::events::DomainEvent;
use serde::{Deserialize, Serialize};

use crate::ids::{CompanyId, ContactId};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ContactCreated {
    pub contact_id: ContactId,
}

impl DomainEvent for ContactCreated {
    const TYPE: &'static str = "contact.created";
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CompanyCreated {
    pub company_id: CompanyId,
}

impl DomainEvent for CompanyCreated {
    const TYPE: &'static str = "company.created";
}
