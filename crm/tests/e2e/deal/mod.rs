//! Deals across the graph: federation with contacts and activities, batching, and the live
//! `dealChanged` stream.

mod analytics;
mod editing;
mod federation;
mod filters;
mod n_plus_one;
mod pipelines;
mod stored_values;
mod subscription;
