-- Tenants: the unit of isolation. Every tenant-owned table refers to this one.
CREATE TABLE tenants (
    id UUID PRIMARY KEY,
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT tenants_slug_key UNIQUE (slug)
);
