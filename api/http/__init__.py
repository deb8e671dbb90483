"""The HTTP API (``/api/v1``), built by :func:`api.http.app.create_app`; services stay in archive/ and integrity/."""
