//! Email: templates, the queue and its sender, tracking.

pub mod library;
pub mod templates;
pub mod transport;
