mod activities;
mod smtp;
mod templates;
