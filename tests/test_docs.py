"""The guide (issue 30): every public name documented in numpydoc form with an example that
runs, and the rules page in the words ``poolkit explain`` and the report use. ``make docs``
builds the guide itself, strict, in CI."""

from __future__ import annotations

import doctest
import importlib.util
import sys
from pathlib import Path

import pytest

import poolkit
from poolkit.cli import main

REPO = Path(__file__).resolve().parents[1]


def _hooks():
    spec = importlib.util.spec_from_file_location("poolkit_docs_hooks", REPO / "docs" / "hooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hooks = _hooks()


def test_every_public_name_has_its_numpydoc_docstring():
    assert hooks.undocumented() == []


MADE_UP = '''
import dataclasses


def bare(x):
    pass


def short(x):
    """One line only."""


def whole(x):
    """Whole.

    Parameters
    ----------
    x : int
        A number.

    Returns
    -------
    int

    Examples
    --------
    >>> 1
    1
    """


def misnamed(y):
    """Its parameter is not the one listed.

    Parameters
    ----------
    x : int
        A number.

    Returns
    -------
    int

    Examples
    --------
    >>> 1
    1
    """


def hollow(x):
    """A section with nothing under it.

    Parameters
    ----------

    Returns
    -------
    int

    Examples
    --------
    >>> 1
    1
    """


def skipped(x):
    """Every example skipped.

    Parameters
    ----------
    x : int
        A number.

    Returns
    -------
    int

    Examples
    --------
    >>> 1  # doctest: +SKIP
    1
    """


class Thing:
    """A thing."""

    def act(self):
        pass

    @property
    def size(self):
        return 1


@dataclasses.dataclass
class Made:
    x: int
'''


def test_the_check_names_what_a_docstring_lacks(tmp_path, monkeypatch):
    (tmp_path / "made_up.py").write_text(MADE_UP)
    monkeypatch.syspath_prepend(str(tmp_path))
    names = ["bare", "short", "whole", "misnamed", "hollow", "skipped", "Thing", "Made"]
    wrong = hooks.undocumented([f"made_up.{name}" for name in names])
    assert wrong == [
        "made_up.bare: no docstring",
        "made_up.short: no Parameters section",
        "made_up.short: no Returns section",
        "made_up.short: no Examples section",
        "made_up.misnamed: parameter y not in Parameters",
        "made_up.hollow: no Parameters section",
        "made_up.skipped: no example that runs",
        "made_up.Thing.act: no docstring",
        "made_up.Thing.size: no docstring",
        "made_up.Made: no docstring",
    ]
    sys.modules.pop("made_up", None)


def test_the_reference_covers_the_top_level():
    """Every name ``import poolkit`` offers is documented on some page of the reference."""
    documented = {id(hooks.resolve(n)) for group in hooks.REFERENCE.values() for n in group}
    for name in poolkit.__all__:
        if name in ("__version__", "errors", "analysis"):
            continue  # a string and two modules with pages of their own
        assert id(getattr(poolkit, name)) in documented, name


def documented_functions(group: str):
    """Each function of a reference group, the public methods of its classes too, with its
    dotted name."""
    import inspect

    for name in hooks.REFERENCE[group]:
        obj = hooks.resolve(name)
        if inspect.isfunction(obj):
            yield name, obj
        elif inspect.isclass(obj) and not issubclass(obj, BaseException):
            for member, value in vars(obj).items():
                if not member.startswith("_") and (
                    inspect.isfunction(value) or isinstance(value, classmethod)
                ):
                    yield f"{name}.{member}", getattr(obj, member)


@pytest.mark.parametrize("group", sorted(hooks.REFERENCE))
def test_the_examples_in_the_docstrings_run(group, tmp_path, monkeypatch):
    """Every example of every function runs and shows what it says; every function has one
    that runs, but those that need a live HighLevel (``hooks.LIVE``)."""
    monkeypatch.chdir(tmp_path)  # an example that writes, writes here
    finder = doctest.DocTestFinder(recurse=False)
    for name, function in documented_functions(group):
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
        ran = 0
        for test in finder.find(function, name, globs={"poolkit": poolkit}):
            runner.run(test)
            ran += sum("+SKIP" not in example.source for example in test.examples)
        assert runner.summarize(verbose=False).failed == 0, name
        assert ran or name.startswith(hooks.LIVE), f"{name}: no example that runs"


def test_the_guide_explains_every_rule_as_poolkit_explain_does(capsys):
    page = hooks.on_page_markdown("## The audit's rules\n\n{{ rules }}\n")
    assert "{{ rules }}" not in page
    flat = " ".join(page.split())
    for checked in poolkit.RULES:
        assert f"### `{checked.id}` ({checked.severity})" in page
        assert main(["explain", checked.id]) == 0
        _, *said = capsys.readouterr().out.split("\n\n")  # what poolkit explain prints
        for paragraph in said:
            assert " ".join(paragraph.split()) in flat, (checked.id, paragraph)
    # worked out by hand from the sample: its forwarding loop, and why it matters
    assert "'Facebook Lead Ads' is +12143892004, one of its own numbers" in flat
    assert "Why it matters: A call forwarded to a number of the pools comes back in" in flat


def test_a_marker_quoted_in_a_sentence_stays_and_an_unknown_group_fails():
    from mkdocs.exceptions import PluginError

    quoted = "The marker `{{ rules }}` and `{{ api GROUP }}` are written on a line of their own."
    assert hooks.on_page_markdown(quoted) == quoted
    with pytest.raises(PluginError, match="no API group 'nothing'"):
        hooks.on_page_markdown("{{ api nothing }}\n")


def test_the_reference_pages_ask_for_every_group():
    asked = {p.stem for p in (REPO / "docs" / "reference").glob("*.md")} - {"index"}
    assert asked == set(hooks.REFERENCE)
    for group in hooks.REFERENCE:
        assert f"{{{{ api {group} }}}}" in (REPO / "docs" / "reference" / f"{group}.md").read_text()
