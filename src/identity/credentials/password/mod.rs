//! Passwords: the policy a new password must meet, and Argon2id hashing that runs off the async
//! workers with bounded concurrency, so a login flood cannot starve other requests.

mod hasher;
mod policy;

pub use hasher::{PasswordHasher, Verified};
pub use policy::{check_password, PolicyViolation};
