//! Authentication (JWT) and who may see what.

pub mod caller;
pub mod claims;
pub mod keys;
pub mod session;

pub use caller::Caller;
pub use claims::Claims;
pub use keys::Keys;
