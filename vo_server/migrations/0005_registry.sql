-- Registry (OAI-PMH) state: one row per record ever published, so datestamps
-- follow real changes and deleted resources stay as tombstones
-- (deletedRecord=persistent).  Rendered payloads are stored so harvests
-- stream them without rebuilding records.
CREATE TABLE vo_internal.registry_records (
    identifier text PRIMARY KEY,           -- the IVOID, also the OAI identifier
    resource_type text NOT NULL,           -- e.g. vs:CatalogResource
    set_specs text[] NOT NULL,
    content_hash text NOT NULL,            -- hash of the record without its datestamp
    datestamp timestamptz NOT NULL,        -- last real change (seconds), OAI datestamp and VOResource @updated
    created timestamptz NOT NULL,
    deleted boolean NOT NULL DEFAULT false,
    ivo_vor text,                          -- rendered payloads (NULL for tombstones)
    oai_dc text,
    oai_datacite text
);
CREATE INDEX registry_records_datestamp ON vo_internal.registry_records (datestamp);

-- Singleton: the resumption-token signing key (persists across restarts) and
-- the fingerprint of the metadata the records were last built from.
CREATE TABLE vo_internal.registry_state (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    token_secret bytea NOT NULL,
    source_fingerprint text,
    synced_at timestamptz
);
-- gen_random_uuid() draws from the server's strong random source (PostgreSQL >= 13, no extension).
INSERT INTO vo_internal.registry_state (token_secret) VALUES (decode(
    replace(gen_random_uuid()::text, '-', '') || replace(gen_random_uuid()::text, '-', ''), 'hex'));
