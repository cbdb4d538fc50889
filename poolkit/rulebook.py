"""The rules explained: what ``poolkit explain``, the guide's rules page and the report's
"What to do" say of each audit rule, in the same words (``explain``, ``Explanation``)."""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

import pandas as pd

from .errors import ConfigurationError
from .findings import RULES, Rule, audit
from .sample import load_sample

__all__ = ["WHY", "Explanation", "explain"]


@dataclass(frozen=True)
class Explanation:
    """What is said of one rule: the words ``poolkit explain``, the guide's rules page and
    the report's "What to do" share (``explain``, ``Explanation.of``)."""

    id: str
    severity: str
    description: str
    why: str
    example: str | None  # the first finding's detail; None: no finding
    action: str | None  # what the findings say to do, most often; None: no finding
    source: str = ""  # where the example is from, such as "in the shipped sample"

    @classmethod
    def of(cls, checked: Rule | None, found: pd.DataFrame) -> Explanation:
        """A rule explained by its findings: the first one's detail, their most frequent suggestion.

        Parameters
        ----------
        checked : Rule or None
            The rule; None for a rule of one's own, not of ``RULES``: only its findings speak.
        found : pandas.DataFrame
            Its findings, in the audit's order.

        Returns
        -------
        Explanation

        Examples
        --------
        >>> from poolkit.rulebook import Explanation
        >>> found = poolkit.audit(poolkit.load_sample(), select=["forwarding-loop"])
        >>> Explanation.of(poolkit.RULES[1], found).action.startswith("Forward to a number outside")
        True
        """
        rule_id = checked.id if checked else str(found["rule"].iloc[0])
        severity = checked.severity if checked else str(found["severity"].iloc[0])
        advice = found["suggestion"].dropna()
        return cls(
            rule_id,
            severity,
            checked.description if checked else "",
            checked.why if checked else "",
            str(found["detail"].iloc[0]) if len(found) else None,
            str(advice.mode().iloc[0]) if len(advice) else None,
        )

    def paragraphs(self) -> list[str]:
        """The explanation as paragraphs of plain text, heading first.

        Returns
        -------
        list of str
            The heading (``id (severity)``), the description, why it matters, the example and
            what to do: the paragraphs ``poolkit explain`` prints.

        Examples
        --------
        >>> from poolkit.rulebook import explain
        >>> explain("duplicate-number").paragraphs()[0]
        'duplicate-number (error)'
        """
        said = [f"{self.id} ({self.severity})", self.description]
        if self.why:
            said.append(f"{WHY}: {self.why}")
        if self.example is not None:
            said.append(f"For example{', ' + self.source if self.source else ''}: {self.example}")
        if self.action is not None:
            said.append(f"What to do: {self.action}")
        return said


#: How an explanation introduces why a rule matters, wherever it is shown.
WHY = "Why it matters"


@functools.lru_cache(maxsize=1)
def _sample_findings() -> pd.DataFrame:
    """The findings of the shipped sample, which holds a case of every rule."""
    return audit(load_sample())


def explain(rule_id: str) -> Explanation:
    """One rule of ``RULES`` explained, as ``ruff rule`` explains its rules, with a case of
    it from the shipped sample.

    Parameters
    ----------
    rule_id : str
        The rule's id, such as ``"duplicate-number"`` (``[r.id for r in poolkit.RULES]``).

    Returns
    -------
    Explanation
        Its id, severity, description, why a case matters, the sample's first case of it
        (its ``detail``) and what its cases say to do (their ``suggestion``).

    Raises
    ------
    poolkit.errors.ConfigurationError
        ``rule_id`` is not the id of a rule of ``RULES``.

    Examples
    --------
    >>> from poolkit.rulebook import explain
    >>> said = explain("empty-active-pool")
    >>> said.severity, said.example
    ('warning', "'Spring Promo' is active but holds no numbers: no visitor can be given one.")
    """
    known = {checked.id: checked for checked in RULES}
    if rule_id not in known:
        raise ConfigurationError(
            f"unknown rule {rule_id!r}; the rules are {', '.join(known)} (poolkit rules)"
        )
    found = _sample_findings()
    said = Explanation.of(known[rule_id], found[(found["rule"] == rule_id).to_numpy()])
    return replace(said, source="in the shipped sample")
