//! `GET/PATCH /api/v1/settings`: the caller's tenant's settings.

pub mod routes;
