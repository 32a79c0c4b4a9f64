mod smtp;
mod templates;
