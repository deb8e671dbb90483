"""Plan a fictitious case from a seed: court, 案号, people, dates and the ordered document list.

Pure: the same ``(seed, documents)`` always gives the same :class:`CasePlan`; no clock, no files.
All dates fall in 2024 (收案年度 2024). Rendering the documents and writing the package is left to
:mod:`archive.sample.generator`; the data tables live in :mod:`archive.sample.names`.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass

from archive.sample.names import (
    AGENCIES,
    CASE_TYPES,
    COMPANIES,
    COURTS,
    GIVEN,
    SENTENCES,
    SURNAMES,
    CaseType,
    Court,
    DocumentKind,
)
from standards.codes import retention_periods
from standards.court_package import MAIN_VOLUME, ORIGIN_DIGITISED, ORIGIN_ELECTRONIC

YEAR = 2024
TZ = dt.timezone(dt.timedelta(hours=8), "CST")
CATEGORY_CODE = "SS"  # 类别代码: 诉讼档案


@dataclass(frozen=True)
class PlannedDocument:
    """One document of the plan, before rendering (sizes and digests come later)."""

    sequence: int
    title: str
    kind: DocumentKind
    author: str
    date: dt.date
    pages: int
    origin: str
    format: str  # PDF | JPEG
    extension: str
    classification: str
    paper_location: str | None
    document_number: str

    @property
    def volume(self) -> str:
        return self.kind.volume

    @property
    def retention(self) -> str:
        return self.kind.retention

    @property
    def file_path(self) -> str:
        return f"{self.volume}/{self.sequence:04d}-{self.title}.{self.extension}"


@dataclass(frozen=True)
class CasePlan:
    """Everything about the fictitious case that the documents and XML files are made from."""

    seed: int
    court: Court
    case_type: CaseType
    case_number: str
    cause: str  # 案由
    department: str
    judge: str  # 承办人
    presiding: str  # 庭长 (signs documents off)
    clerk: str  # 书记员
    party_a: str
    party_b: str
    filed: dt.date
    closing_date: dt.date
    fonds_code: str  # 全宗号
    file_number: int  # 案卷号
    documents: tuple[PlannedDocument, ...]

    @property
    def retention(self) -> str:
        """保管期限 of the dossier: the longest of its documents."""
        periods = retention_periods()
        return max((d.retention for d in self.documents), key=lambda r: periods[r].rank)

    def archival_code(self, doc: PlannedDocument) -> str:
        """档号 全宗号-类别代码·年度-保管期限代码-案卷号-件号 (DA/T 13-2022 levels joined by '-', '·')."""
        code = retention_periods()[doc.retention].archival_code  # 保管期限代码 from codes/retention.csv
        return f"{self.fonds_code}-{CATEGORY_CODE}·{YEAR}-{code}-{self.file_number:04d}-{doc.sequence:04d}"

    def author_name(self, role: str) -> str:
        return {
            "court": self.court.name,
            "judge": self.judge,
            "clerk": self.clerk,
            "plaintiff": self.party_a,
            "applicant": self.party_a,
            "defendant": self.party_b,
            "respondent": self.party_b,
            "prosecutor": self.party_a,
        }[role]


def person_name(rng: random.Random) -> str:
    """A plausible two- or three-character Chinese name."""
    given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
    return rng.choice(SURNAMES) + given


def _select_kinds(case_type: CaseType, count: int) -> list[DocumentKind]:
    """``count`` kinds in filing order: the most essential of the plan, then cycled extras before 副卷."""
    plan = list(case_type.plan)
    if count <= len(plan):
        keep = sorted(range(len(plan)), key=lambda i: (plan[i].rank, i))[:count]
        return [plan[i] for i in sorted(keep)]
    main = [k for k in plan if k.volume == MAIN_VOLUME]
    sub = [k for k in plan if k.volume != MAIN_VOLUME]
    extras = [case_type.extras[i % len(case_type.extras)] for i in range(count - len(plan))]
    # extras go before the judgment/service documents at the end of the 正卷
    return main[:-2] + extras + main[-2:] + sub


def _titles(kinds: list[DocumentKind]) -> list[str]:
    totals = Counter(k.title for k in kinds)
    seen: Counter[str] = Counter()
    titles = []
    for k in kinds:
        seen[k.title] += 1
        titles.append(f"{k.title}（{seen[k.title]}）" if totals[k.title] > 1 else k.title)
    return titles


def _dates(rng: random.Random, kinds: list[DocumentKind], filed: dt.date, closing: dt.date) -> list[dt.date]:
    span = (closing - filed).days
    main_n = sum(1 for k in kinds if k.volume == MAIN_VOLUME)
    dates: list[dt.date] = []
    for i, k in enumerate(kinds):
        if k.volume == MAIN_VOLUME:
            offset = span * i // max(1, main_n - 1)
        else:  # 副卷: deliberation and reports shortly before the judgment
            offset = max(0, span - rng.randrange(3, 15))
        dates.append(filed + dt.timedelta(days=min(offset, span)))
    return dates


def _parties(rng: random.Random, case_type: CaseType, court: Court) -> tuple[str, str]:
    region = court.name.removesuffix("人民法院")
    if case_type.case_type == "刑事":
        return region + "人民检察院", person_name(rng)
    if case_type.case_type == "行政":
        return person_name(rng), region + rng.choice(AGENCIES)
    return person_name(rng), rng.choice((*COMPANIES, person_name(rng)))


def plan_case(seed: int, documents: int) -> CasePlan:
    """The plan for sample ``seed`` with exactly ``documents`` documents.

    Raises:
        ValueError: ``documents`` < 1.
    """
    if documents < 1:
        raise ValueError(f"documents must be >= 1, got {documents}")
    rng = random.Random(f"case:{seed}")  # noqa: S311 - deterministic sample data, not security
    case_type = rng.choice(CASE_TYPES)
    court = rng.choice([c for c in COURTS if c.level == case_type.court_level])
    number = rng.randrange(1, 20000)
    filed = dt.date(YEAR, 1, 2) + dt.timedelta(days=rng.randrange(0, 170))
    closing = filed + dt.timedelta(days=rng.randrange(45, 150))
    party_a, party_b = _parties(rng, case_type, court)
    kinds = _select_kinds(case_type, documents)
    titles = _titles(kinds)
    dates = _dates(rng, kinds, filed, closing)
    shelf = f"档案库房 {rng.choice('ABC')}区-{rng.randrange(1, 30):02d}架"
    case_number = f"（{YEAR}）{court.code}{case_type.type_code}{number}号"
    docs = []
    for i, (kind, title, date) in enumerate(zip(kinds, titles, dates, strict=True)):
        low, high = kind.pages
        pages = rng.randint(low, high)
        if kind.paper:
            origin, location = ORIGIN_DIGITISED, f"{shelf}-{rng.randrange(1, 8):02d}层"
            fmt, ext = ("JPEG", "jpg") if pages == 1 else ("PDF", "pdf")
        else:
            origin, location, fmt, ext = ORIGIN_ELECTRONIC, None, "PDF", "pdf"
        decision = (
            kind.volume == MAIN_VOLUME
            and title.endswith(("判决书", "裁定书"))
            and not title.startswith("一审")
        )
        docs.append(
            PlannedDocument(
                sequence=i + 1,
                title=title,
                kind=kind,
                author="",
                date=date,
                pages=pages,
                origin=origin,
                format=fmt,
                extension=ext,
                classification="公开" if kind.volume == MAIN_VOLUME else "内部",
                paper_location=location,
                document_number=case_number if decision else "",
            )
        )
    plan = CasePlan(
        seed=seed,
        court=court,
        case_type=case_type,
        case_number=case_number,
        cause=rng.choice(case_type.causes),
        department=rng.choice(case_type.departments),
        judge=person_name(rng),
        presiding=person_name(rng),
        clerk=person_name(rng),
        party_a=party_a,
        party_b=party_b,
        filed=filed,
        closing_date=closing,
        fonds_code=f"J{rng.randrange(100, 1000)}",
        file_number=rng.randrange(1, 3000),
        documents=(),
    )
    named = tuple(PlannedDocument(**{**d.__dict__, "author": plan.author_name(d.kind.author)}) for d in docs)
    return CasePlan(**{**plan.__dict__, "documents": named})


def body_paragraphs(plan: CasePlan, doc: PlannedDocument) -> list[str]:
    """Plausible Chinese paragraphs for ``doc`` (seeded by the plan seed and the 顺序号)."""
    rng = random.Random(f"text:{plan.seed}:{doc.sequence}")  # noqa: S311 - deterministic sample data, not security
    a_role, b_role = plan.case_type.parties
    values = {
        "a": f"{a_role}{plan.party_a}",
        "b": f"{b_role}{plan.party_b}",
        "cause": plan.cause,
        "filed": f"{plan.filed.year}年{plan.filed.month}月{plan.filed.day}日",
        "signed": f"{YEAR - 1}年{rng.randrange(1, 13)}月{rng.randrange(1, 29)}日",
        "procedure": rng.choice(("普通程序", "简易程序")),
        "amount": f"{rng.randrange(10_000, 900_000):,}",
    }
    opening = f"{a_role}：{plan.party_a}。{b_role}：{plan.party_b}。案由：{plan.cause}。"
    picked = rng.sample(SENTENCES, k=min(len(SENTENCES), 10))
    return [opening, *(s.format(**values) for s in picked), f"承办人：{plan.judge}　书记员：{plan.clerk}"]
