-- TAP async jobs (UWS 1.1): persisted so they survive restarts and can be
-- shared by several server processes (workers take QUEUED jobs with
-- FOR UPDATE SKIP LOCKED).
CREATE TABLE vo_internal.uws_jobs (
    job_id text PRIMARY KEY,
    run_id text,
    owner_id text,
    phase text NOT NULL DEFAULT 'PENDING'
        CHECK (phase IN ('PENDING', 'QUEUED', 'EXECUTING', 'COMPLETED', 'ERROR', 'ABORTED', 'UNKNOWN',
                         'HELD', 'SUSPENDED', 'ARCHIVED')),
    parameters jsonb NOT NULL DEFAULT '{}',   -- lower-case name -> list of values
    upload_parts jsonb NOT NULL DEFAULT '{}', -- multipart part name -> stored file path
    creation_time timestamptz NOT NULL DEFAULT now(),
    queued_time timestamptz,
    start_time timestamptz,
    end_time timestamptz,
    execution_duration integer NOT NULL,      -- seconds, 0 = unlimited
    destruction timestamptz NOT NULL,
    error_message text,
    error_timeout boolean NOT NULL DEFAULT false,
    result_path text,
    result_mime text,
    result_rows bigint,
    result_overflow boolean,
    worker text,                               -- process executing it
    version bigint NOT NULL DEFAULT 0          -- bumped on every change (WAIT)
);
CREATE INDEX uws_jobs_phase ON vo_internal.uws_jobs (phase, queued_time);
CREATE INDEX uws_jobs_destruction ON vo_internal.uws_jobs (destruction);

-- Per-query schemas holding TAP_UPLOAD tables, so a crash leaves none behind.
CREATE TABLE vo_internal.tap_upload_schemas (
    schema_name text PRIMARY KEY,
    job_id text,
    created_at timestamptz NOT NULL DEFAULT now()
);
