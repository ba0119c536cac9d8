DROP TABLE login_links;
DROP TABLE console_sessions;
