-- Foundation: published schemas and the server's internal state.
CREATE SCHEMA IF NOT EXISTS tap_schema;
CREATE SCHEMA IF NOT EXISTS ivoa;

-- Catalogue schemas created by ingest (their tables are readable by the query role).
CREATE TABLE vo_internal.data_schemas (
    schema_name text PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- What ingest knows about each published data table beyond TAP_SCHEMA.
CREATE TABLE vo_internal.published_tables (
    schema_name text NOT NULL,
    table_name text NOT NULL,
    ra_column text,
    dec_column text,
    hpx_column text,
    row_count bigint NOT NULL DEFAULT 0,
    bad_position_count bigint NOT NULL DEFAULT 0,
    coverage_order integer,
    coverage_moc text,                -- MOC 2.0 ASCII serialisation
    sky_fraction double precision,
    source text,                      -- file(s) it was loaded from
    extra jsonb NOT NULL DEFAULT '{}', -- citation, licence, ... from --metadata
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (schema_name, table_name)
);
