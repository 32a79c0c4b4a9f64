use async_graphql::{Context, ID, InputObject, Json, Object};
use crm_entities::ids::CompanyId;
use crm_platform::Caller;
use crm_platform::text::{self, EmailAddress};

use super::types::{Company, Contact};
use crate::companies::{NewCompany, create_company};
use crate::contacts::{NewContact, check_custom_fields, create_contact};

#[derive(InputObject)]
pub struct CreateContactInput {
    pub first_name: String,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company_id: Option<ID>,
    /// A JSON object of tenant-defined fields.
    pub custom_fields: Option<Json<serde_json::Value>>,
}

impl CreateContactInput {
    fn parse(self) -> crm_platform::ApiResult<NewContact> {
        Ok(NewContact {
            first_name: text::required("firstName", &self.first_name, 100)?,
            last_name: text::optional("lastName", self.last_name.as_deref(), 100)?.unwrap_or_default(),
            email: self
                .email
                .as_deref()
                .filter(|e| !e.trim().is_empty())
                .map(|e| EmailAddress::parse("email", e))
                .transpose()?,
            phone: text::optional("phone", self.phone.as_deref(), 40)?,
            company: self.company_id.as_ref().map(|id| CompanyId::parse(id, "companyId")).transpose()?,
            custom_fields: check_custom_fields(self.custom_fields.map(|json| json.0))?,
        })
    }
}

#[derive(InputObject)]
pub struct CreateCompanyInput {
    pub name: String,
    pub domain: Option<String>,
}

pub struct MutationRoot;

#[Object(name = "Mutation")]
impl MutationRoot {
    async fn create_contact(
        &self,
        ctx: &Context<'_>,
        input: CreateContactInput,
    ) -> async_graphql::Result<Contact> {
        let caller = Caller::of(ctx)?;
        let new = input.parse()?;
        let tx = caller.write_tx().await?;
        let contact = create_contact(&tx, caller.user(), new).await?;
        tx.commit().await?;
        Ok(Contact(contact))
    }

    async fn create_company(
        &self,
        ctx: &Context<'_>,
        input: CreateCompanyInput,
    ) -> async_graphql::Result<Company> {
        let caller = Caller::of(ctx)?;
        let new = NewCompany {
            name: text::required("name", &input.name, 200)?,
            domain: text::optional("domain", input.domain.as_deref(), 253)?.map(|d| d.to_lowercase()),
        };
        let tx = caller.write_tx().await?;
        let company = create_company(&tx, caller.user(), new).await?;
        tx.commit().await?;
        Ok(Company(company))
    }
}
