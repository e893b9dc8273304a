//! Two-factor enrolment: set up, enable and disable TOTP for the caller's account.

pub mod routes;
