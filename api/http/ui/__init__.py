"""The archivist's web dashboard under ``/ui`` (server-rendered, Chinese): :data:`api.http.ui.pages.router`."""
