//! Notifications: who a transition concerns, and the outbox rows written in the same
//! transaction. Delivery (SMTP / .eml) runs after commit, from the outbox.

pub mod outbox;
pub mod recipients;
