//! Sign-in, tokens, sessions, refresh, password reset and the person's own account.

mod accounts;
mod password_reset;
mod refresh;
mod sessions;
mod tokens;
