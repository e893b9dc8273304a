//! The caller's own account: `GET /api/v1/me` and password change.

pub mod routes;
