-- TAP async: the estimated run time of a job (seconds, from the query plan's cost), for the
-- UWS quote; NULL while unknown (e.g. a job with uploads before it runs).
ALTER TABLE vo_internal.uws_jobs ADD COLUMN estimated_seconds double precision;
