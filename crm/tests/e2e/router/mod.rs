//! The HTTP and websocket surface: the router's protections, bad input, socket guards, health
//! and the committed schemas.

mod bad_input;
mod fuzz;
mod health;
mod protections;
mod schema;
mod websocket;
