mod smtp;
