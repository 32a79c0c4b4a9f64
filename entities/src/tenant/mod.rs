pub mod activity;
pub mod company;
pub mod contact;
pub mod deal;
pub mod deal_contact;
pub mod pipeline;
pub mod pipeline_stage;
pub mod user_preference;
