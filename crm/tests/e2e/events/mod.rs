//! The outbox relay and the event stream, under faults of their dependencies.

mod relay;
