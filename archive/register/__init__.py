"""The monthly archiving register (归档台账): statistics by month and 承办部门, and their XLSX/PDF forms.

:mod:`~archive.register.model` holds the values, :mod:`~archive.register.compute` the pure rules,
:mod:`~archive.register.reader` reads the inputs from the catalog, and
:mod:`~archive.register.export_xlsx` / :mod:`~archive.register.export_pdf` render a table.
"""
