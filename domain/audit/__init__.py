"""Audit: a call or a tenant's configuration as it was at an instant, and the log's hash chain."""
