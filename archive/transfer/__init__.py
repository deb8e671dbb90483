"""Transfer to the state archive (移交, DA/T 93-2022) and accession of a transfer package (接收).

Pure pieces:

* :mod:`.layout` — names and folders of the transfer package, the record (案卷) 档号;
* :mod:`.documents` — 说明文件, 目录文件 and 移交清单 as XML (render, hardened parse, XSD in ``schemas/``);
* :mod:`.fixity` — 固化信息.json;
* :mod:`.register` — the signed 电子档案移交接收登记表 (Annex C) and its detached signature;
* :mod:`.findings` — transfer-level findings and how they enter a YJ detection report;
* :mod:`.inspect`, :mod:`.consistency` — every layout/consistency check a receiver makes;
* :mod:`.outcome` — the answers of export and import.

With I/O:

* :mod:`.selection` — which dossiers an export takes;
* :mod:`.eep_check` — one record's DA/T 48 EEP: signatures, trust, decoded files;
* :mod:`.register_check` — trust roots and the sender's signed 登记表;
* :mod:`.yj` — the DA/T 70 YJ stage of one record;
* :mod:`.receipt` — the receiver's own 登记表 and reports;
* :mod:`.files` — exclusive writes and hashing of folders edossier wrote itself;
* :mod:`.export` / :mod:`.accession` — the two orchestrators (store, catalog, ledger, files).

See docs/transfer.md.
"""
