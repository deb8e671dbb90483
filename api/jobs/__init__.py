"""Jobs on Procrastinate (PostgreSQL): audit batches, finishing runs, scheduled audits, ingest, alerts.

:mod:`api.jobs.app` builds the Procrastinate app from the settings; :mod:`api.jobs.tasks` declares
the tasks (thin wrappers around the audit runner and the ingest service); :mod:`api.jobs.enqueue`
plans a run and defers its batches. ``edossier worker`` (:mod:`api.cli_worker`) runs a worker.
"""
