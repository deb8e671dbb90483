"""Detection reports (DA/T 70-2018 检测报告): header, JSON/HTML/PDF rendering and the catalog store.

:mod:`.header` builds the header block, :mod:`.presentation` turns a
:class:`~integrity.checks.model.DetectionReport` into rows and totals that people read,
:mod:`.render_json`, :mod:`.render_html` and :mod:`.render_pdf` render it, and :mod:`.store` saves
and loads it in the ``detection_reports`` table. Deciding the results is the checks' job, not this
package's.
"""
