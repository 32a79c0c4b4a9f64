//! Typed ids of CRM records: a `ContactId` cannot be passed where a `DealId` is expected. The ids
//! of identity and tenancy (`UserId`, `TenantId`, `SessionId`, `EventId`) are the platform's.

use crm_platform::typed_id;

typed_id!(ContactId, "contact");
typed_id!(CompanyId, "company");
typed_id!(DealId, "deal");
typed_id!(PipelineId, "pipeline");
typed_id!(StageId, "stage");
typed_id!(ActivityId, "activity");
typed_id!(EmailTemplateId, "email template");
typed_id!(TaskId, "task");
typed_id!(EmailId, "email");
