"""Human-facing pages: the landing page and /health."""
