-- Tenants: the unit of isolation. Every tenant-owned table refers to this one.
CREATE TABLE tenants (
    id TEXT PRIMARY KEY NOT NULL,
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    CONSTRAINT tenants_slug_key UNIQUE (slug)
) STRICT;
