mod activities;
mod emails;
mod flows;
mod smtp;
mod tasks;
mod templates;
mod timeline;
mod webhooks;
