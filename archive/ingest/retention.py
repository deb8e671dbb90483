"""Object-lock retention from a dossier's 保管期限 (pure).

Court scheme (《关于人民法院诉讼档案保管期限的规定》 art. 3): 永久, 长期 = 60 years, 短期 = 30 years;
configurable through :class:`archive.settings.Retention`. S3 needs a date, so 永久 is locked for
``permanent_lock_years`` and extended by later audits.
"""

from __future__ import annotations

import datetime as dt

from archive.settings import Retention


def _add_years(when: dt.datetime, years: int) -> dt.datetime:
    try:
        return when.replace(year=when.year + years)
    except ValueError:  # 29 February
        return when.replace(year=when.year + years, day=28)


def retain_until(retention: str, archived_at: dt.datetime, scheme: Retention) -> dt.datetime:
    """The date until which objects of a dossier with this 保管期限 must stay locked.

    >>> import datetime as dt
    >>> retain_until("短期", dt.datetime(2025, 1, 2, tzinfo=dt.UTC), Retention()).year
    2055

    Raises:
        ValueError: ``retention`` is not a code of the configured scheme (validation checks the
            value domain first, DA/T 70 GD-1-4, so this is a caller bug).
    """
    if retention not in scheme.periods:
        raise ValueError(f"unknown retention code {retention!r}; configured: {sorted(scheme.periods)}")
    years = scheme.periods[retention]
    return _add_years(archived_at, scheme.permanent_lock_years if years is None else years)


def longest_retention(codes: list[str], scheme: Retention) -> str:
    """The longest of several 保管期限 codes (永久 beats any number of years)."""
    if not codes:
        raise ValueError("no retention codes given")

    def rank(code: str) -> float:
        years = scheme.periods[code]
        return float("inf") if years is None else float(years)

    return max(codes, key=rank)
