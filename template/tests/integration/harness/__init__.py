"""Service servers for the integration suite: one module per service, one per backend."""
