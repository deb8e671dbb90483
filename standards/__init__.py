"""edossier: standards package."""
