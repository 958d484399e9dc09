"""Images: ObsCore records from FITS headers, the SIA 2.0 query service and
access to the image files."""
