//! Email: templates, the queue and its sender, tracking.

pub mod library;
pub mod queue;
pub mod sender;
pub mod settings;
pub mod templates;
pub mod tracking;
pub mod transport;
