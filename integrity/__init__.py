"""edossier: integrity package."""
