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

REPO = Path(__file__).resolve().parents[1]


def _hooks():
    spec = importlib.util.spec_from_file_location("poolkit_docs_hooks", REPO / "docs" / "hooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hooks = _hooks()


def test_every_public_name_has_its_numpydoc_docstring():
    assert hooks.undocumented() == []


def test_the_check_names_what_a_docstring_lacks(tmp_path, monkeypatch):
    (tmp_path / "made_up.py").write_text(
        "def bare(x):\n    pass\n\n\n"
        "def short(x):\n    '''One line only.'''\n\n\n"
        "def whole(x):\n    '''Whole.\n\n    Parameters\n    ----------\n    x : int\n\n"
        "    Returns\n    -------\n    int\n\n"
        "    Examples\n    --------\n    >>> 1\n    1\n    '''\n"
        "\n\nclass Thing:\n    '''A thing.'''\n\n    def act(self):\n        pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    wrong = hooks.undocumented(["made_up.bare", "made_up.short", "made_up.whole", "made_up.Thing"])
    assert wrong == [
        "made_up.bare: no docstring",
        "made_up.short: no Parameters, Returns, Examples section",
        "made_up.Thing.act: no docstring",
    ]
    sys.modules.pop("made_up", None)


def test_the_reference_covers_the_top_level():
    """Every name ``import poolkit`` offers is documented on some page of the reference."""
    documented = {id(hooks.resolve(n)) for group in hooks.REFERENCE.values() for n in group}
    for name in poolkit.__all__:
        if name in ("__version__", "errors", "analysis"):
            continue  # a string and two modules with pages of their own
        assert id(getattr(poolkit, name)) in documented, name


@pytest.mark.parametrize("group", sorted(hooks.REFERENCE))
def test_the_examples_in_the_docstrings_run(group, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # an example that writes, writes here
    finder, runner = doctest.DocTestFinder(recurse=False), doctest.DocTestRunner()
    ran = 0
    for name in hooks.REFERENCE[group]:
        obj = hooks.resolve(name)
        for test in finder.find(obj, name, globs={"poolkit": poolkit}):
            ran += len(test.examples)
            runner.run(test)
    failed, _ = runner.summarize(verbose=False)
    assert failed == 0
    assert ran > 0 or group == "errors"


def test_the_guide_explains_every_rule_as_poolkit_explain_does():
    page = hooks.on_page_markdown("## The audit's rules\n\n{{ rules }}\n")
    assert "{{ rules }}" not in page
    for checked in poolkit.RULES:
        said = poolkit.findings.explain(checked.id)
        assert f"### `{checked.id}`" in page
        for words in (said.description, said.why, said.example, said.action):
            assert words and words in page, (checked.id, words)
    # worked out by hand from the sample: its forwarding loop
    assert "'Facebook Lead Ads' is +12143892004, one of its own numbers" in page


def test_the_reference_pages_ask_for_every_group():
    asked = {p.stem for p in (REPO / "docs" / "reference").glob("*.md")} - {"index"}
    assert asked == set(hooks.REFERENCE)
    for group in hooks.REFERENCE:
        assert f"{{{{ api {group} }}}}" in (REPO / "docs" / "reference" / f"{group}.md").read_text()
