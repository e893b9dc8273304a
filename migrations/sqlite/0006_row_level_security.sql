-- PostgreSQL's migration 0006 enables row-level security on the remaining tenant-owned tables.
-- SQLite has no row-level security (tenant isolation rests on the tenant filter in every
-- statement); this keeps the version numbers of both backends in step.
SELECT 1;
