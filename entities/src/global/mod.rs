pub mod invitation;
pub mod member;
pub mod membership;
pub mod password_reset;
pub mod refresh_token;
pub mod signing_key;
pub mod tenant;
pub mod user;
