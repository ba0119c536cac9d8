//! API tests over HTTP against the app on a real SQLite file and a real PostgreSQL database.

mod conformance;
mod helpers;
mod hygiene;

mod abuse;
mod audit;
mod authority;
mod authz;
mod binary;
mod clarification;
mod concurrency;
mod console;
mod files;
mod happy_path;
mod idempotency;
mod keys;
mod ledger;
mod lists;
mod mail;
mod migrations;
mod openapi;
mod plans;
mod refusals;
mod schemathesis;
mod smtp;
mod snapshots;
mod statistics;
mod substance;
mod third;
mod timers;
mod tipoff;
mod writer;
