mod activities;
mod smtp;
mod tasks;
mod templates;
