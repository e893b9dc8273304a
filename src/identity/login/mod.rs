//! Logging in: the password (and second factor) check, throttling of failed attempts, and the
//! graduated lockout.

pub mod attempts;
pub mod lockout;
pub mod routes;
pub mod second_factor;
