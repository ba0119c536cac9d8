//! rongcuo: case management for exoneration applications (容错免责申请) and accusation
//! clarification (信访举报澄清正名).

pub mod audit;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod db;
pub mod domain;
pub mod engine;
pub mod error;
pub mod export;
pub mod files;
pub mod http;
pub mod memo;
pub mod metrics;
pub mod notify;
pub mod poll;
pub mod ratelimit;
pub mod seal;
pub mod settings;
pub mod startup;
pub mod telemetry;
pub mod time;
pub mod timers;
