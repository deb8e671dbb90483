"""A realistic, deterministic sample court dossier (``edossier sample``) for demos, tests and benchmarks.

The case is fictitious; its documents are real multi-page PDFs (Chinese text) and JPEG scans, with
every catalogue entry and metadata file filled and digested. See :func:`generate_sample`.
"""

from archive.sample.generator import SampleResult, SampleTargetExists, generate_sample

__all__ = ["SampleResult", "SampleTargetExists", "generate_sample"]
