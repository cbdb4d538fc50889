"""The audit: what is wrong with the pools, where, and what to do about it.

``audit(tables)`` runs every rule of ``RULES`` and returns the **findings** table, one row per
finding, sorted by severity, then location. A rule is a function ``(tables) -> DataFrame`` of
findings columns (``location_id``, ``pool_id``, ``phone_number``, ``detail``, ``suggestion``;
``severity`` optional); ``audit`` adds the rule's id, its severity and the location and pool
names. ``@rule(id, severity, description)`` makes one; a plain function works too, its id
being its name with dashes. A rule that raises becomes an ``error`` finding naming it, and
the other rules still run.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable, Iterable

import numpy as np
import pandas as pd

from .checks import AUDIT_SHARED, FINDING_DTYPES, RULES, SEVERITIES, Rule, rule, rule_id
from .errors import ConfigurationError
from .lookup import is_dask, location_names, pandas_tables
from .model import POOL_KEY, current, pool_identity, pool_names, pool_shown
from .tables import PoolTables

__all__ = [  # the rules are defined in poolkit.checks; offered here, beside audit
    "FINDING_DTYPES",
    "RULES",
    "SEVERITIES",
    "Rule",
    "audit",
    "findings_summary",
    "rule",
]


def _chosen(rules, select, ignore) -> list:
    known = {rule_id(check) for check in rules}
    for given in (*(select or ()), *(ignore or ())):
        if given not in known:
            raise ConfigurationError(
                f"unknown rule {given!r}; the rules are {', '.join(sorted(known))}"
            )
    chosen = [
        check
        for check in rules
        if (select is None or rule_id(check) in select) and rule_id(check) not in (ignore or ())
    ]
    if not chosen:
        raise ConfigurationError("no rule left to run: select and ignore leave none")
    return chosen


def _run(check: Callable, tables: PoolTables) -> pd.DataFrame:
    """The findings of one rule, in findings columns; a rule that raises or returns something
    else than a findings frame gives one ``error`` finding that says so."""
    checked = rule_id(check)
    try:
        found = check(tables)
        if not isinstance(found, pd.DataFrame):
            raise TypeError(f"returned {type(found).__name__}, not a DataFrame")
        unknown = set(found.columns) - set(FINDING_DTYPES) - {"pool_row"}
        if unknown:
            raise KeyError(f"returned columns that are not findings columns: {sorted(unknown)}")
        severities = set(found.get("severity", pd.Series(dtype=object)).dropna()) - set(SEVERITIES)
        if severities:
            raise ValueError(f"returned severities other than {SEVERITIES}: {sorted(severities)}")
    except Exception as exc:  # a broken rule must not hide the others' findings
        found = pd.DataFrame(
            {
                "severity": ["error"],
                "detail": [f"The rule {checked} failed: {type(exc).__name__}: {exc}"],
                "suggestion": [
                    f"Fix the rule, or leave it out with ignore=['{checked}'] (--ignore {checked})."
                ],
            }
        )
    found = found.reset_index(drop=True)
    if "severity" not in found:
        found["severity"] = getattr(check, "severity", "warning")
    return found.drop(columns=["location", "pool"], errors="ignore").assign(rule=checked)


def _with_pool_names(tables: PoolTables, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with each finding's ``pool``, the name to show (by its pool row where the
    rule gave one, else by location and pool id), and without the repeats of a finding: a
    pool repeated whole in a response is one pool, every pool without an id a pool of its
    own."""
    rows = pd.to_numeric(frame["pool_row"]).fillna(-1).to_numpy(dtype=np.int64, copy=True)
    rows[rows >= len(tables.pools)] = -1
    known, at = rows >= 0, np.maximum(rows, 0)
    names = pool_shown(tables.pools).astype(object).to_numpy()
    if not len(names):  # no pool: no row to name
        names = np.array([None], dtype=object)
    by_row = pd.Series(np.where(known, names[at], None), index=frame.index, dtype="string")
    frame["pool"] = by_row.where(known, pool_names(tables.pools, frame))
    frame["pool_key"] = _pool_keys(tables, frame, rows)
    return frame.drop(columns="pool_row").astype(FINDING_DTYPES).drop_duplicates()


def _pool_keys(tables: PoolTables, frame: pd.DataFrame, rows: np.ndarray) -> pd.Series:
    """``model.pool_identity`` of each finding's pool, over every pool of the audit: by its
    pool row where the rule gave one, else by its location and pool id; NA for a finding
    about no pool."""
    every = pool_identity(tables.pools)
    known = rows >= 0
    keys = pd.Series(pd.NA, index=frame.index, dtype="Int64")
    keys[known] = every[rows[known]]
    by_id = keys.isna() & frame["pool_id"].notna()
    if by_id.any():
        ids = pd.MultiIndex.from_frame(tables.pools[POOL_KEY].astype(object))
        first = pd.Series(every, index=ids)
        first = first[~first.index.duplicated()]
        asked = pd.MultiIndex.from_frame(frame.loc[by_id, POOL_KEY].astype(object))
        keys[by_id] = first.reindex(asked).to_numpy()
    return keys


def audit(
    tables: PoolTables,
    rules: Iterable[Callable] | None = None,
    *,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
) -> pd.DataFrame:
    """What is wrong with the pools: the findings of every rule, most severe first.

    Where the tables hold several snapshots, their current state is audited: the newest
    snapshot, and only the locations in it. A rule that raises becomes an ``error`` finding
    that names it, and the others still run.

    Parameters
    ----------
    tables : PoolTables
        What ``poolkit.read_pools``, ``read_dataset`` or ``load_sample`` returns.
    rules : iterable of callables, optional
        The rules to run; default: ``RULES``. A rule of your own is a function of the tables
        (see ``rule``).
    select : iterable of str, optional
        Run only the rules of these ids.
    ignore : iterable of str, optional
        Skip the rules of these ids.

    Returns
    -------
    pandas.DataFrame
        One row per finding, with the columns and dtypes of ``FINDING_DTYPES``: ``severity``
        (ordered), ``rule``, ``location_id``, ``location``, ``pool_id``, ``pool``,
        ``phone_number``, ``detail`` (what was found), ``suggestion`` (what to do) and
        ``pool_key``; sorted by severity, then location, rule and pool.

    Examples
    --------
    >>> findings = poolkit.audit(poolkit.load_sample())
    >>> findings["severity"].value_counts().to_dict()
    {'info': 47, 'warning': 42, 'error': 17}
    >>> len(poolkit.audit(poolkit.load_sample(), select=["duplicate-number"]))
    2
    """
    if is_dask(tables):  # duplicates and loops need every number at once
        computed = pandas_tables(tables)
        computed.numbers = tables.numbers.compute().reset_index(drop=True)
        tables = computed
    tables = current(tables)  # the locations as they are now, not as they were
    if not tables.pools.index.equals(pd.RangeIndex(len(tables.pools))):  # rows by position
        tables = replace(tables, pools=tables.pools.reset_index(drop=True))
    chosen = _chosen(
        RULES if rules is None else list(rules),
        None if select is None else set(select),
        set(ignore or ()),
    )
    names = location_names(tables)
    auditing = AUDIT_SHARED.set({"names": names})
    try:
        found = [_run(check, tables) for check in chosen]
    finally:
        AUDIT_SHARED.reset(auditing)
    frame = pd.concat([f for f in found if len(f)] or [pd.DataFrame()], ignore_index=True)
    frame = frame.reindex(columns=[*FINDING_DTYPES, "pool_row"]).reset_index(drop=True)
    frame["location"] = frame["location_id"].map(names)
    frame = _with_pool_names(tables, frame)
    frame["rank"] = -frame["severity"].cat.codes  # most severe first
    return (
        frame.sort_values(
            ["rank", "location", "location_id", "rule", "pool", "pool_id"]
            + ["phone_number", "detail"],
            kind="stable",
            na_position="last",
        )
        .drop(columns="rank")
        .reset_index(drop=True)
    )


def findings_summary(
    findings: pd.DataFrame, rules: Iterable[Callable] | None = None
) -> pd.DataFrame:
    """Findings per rule: how many, in how many locations, and what the rule checks.

    Parameters
    ----------
    findings : pandas.DataFrame
        What ``audit`` returns.
    rules : iterable of callables, optional
        The rules audited, for their descriptions; default: ``RULES``.

    Returns
    -------
    pandas.DataFrame
        ``severity``, ``rule``, ``findings``, ``locations`` and ``checks``; most severe
        first.

    Examples
    --------
    >>> from poolkit.findings import findings_summary
    >>> summary = findings_summary(poolkit.audit(poolkit.load_sample()))
    >>> summary[["rule", "findings", "locations"]].values.tolist()[0]
    ['active-pool-without-route', 13, 11]
    """
    described = {
        rule_id(r): getattr(r, "description", "") for r in (RULES if rules is None else rules)
    }
    grouped = findings.groupby(["severity", "rule"], observed=True, sort=True)
    frame = grouped.agg(
        findings=("rule", "size"), locations=("location_id", "nunique")
    ).reset_index()
    frame["checks"] = frame["rule"].map(described).fillna("").astype("string")
    return frame.sort_values(
        ["severity", "findings"], ascending=[False, False], kind="stable"
    ).reset_index(drop=True)
