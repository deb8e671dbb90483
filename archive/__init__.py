"""edossier: archive package."""
