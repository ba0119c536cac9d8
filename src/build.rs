//! Build script (Cargo.toml `build`): rebuilds the crate when a migration is added, changed
//! or removed. `embed_migrations!` reads `migrations/` at compile time, and cargo does not
//! otherwise watch that folder: an incremental build would miss a new migration that a
//! clean one has.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
