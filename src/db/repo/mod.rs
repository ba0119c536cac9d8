//! One module per aggregate; each function takes a connection (and so a transaction).

pub mod cases;
pub mod files;
pub mod fixed;
pub mod idempotency;
pub mod ledger;
pub mod list;
pub mod outbox;
pub mod people;
pub mod sessions;
pub mod statistics;
pub mod step;
pub mod timers;
pub mod transitions;

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
pub fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
