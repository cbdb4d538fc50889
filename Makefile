# Two commands do all the set-up on a machine with only python3:
#   make report   creates .venv, installs poolkit, runs the main job on the sample data
#   make test     creates .venv with the test extras, checks lint and format (ruff), runs the suite
#   make fuzz     the generated-input tests at their large size (over 26,000 inputs)
#   make docs     the guide, built strict into site/ (CI runs it)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DATA   ?= data/sample
TABLES ?= data/processed/$(notdir $(patsubst %/,%,$(DATA)))

.PHONY: report test docs screenshot fuzz bench sample clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

$(VENV)/.installed-docs: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[docs]'
	touch $@ $(VENV)/.installed

report: $(VENV)/.installed
	$(BIN)/poolkit tidy $(DATA) --out $(TABLES)
	$(BIN)/poolkit report $(DATA) --out reports/number-pools.html

test: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -n 2 --dist loadfile

# the guide: a broken link, or a public name without its numpydoc docstring, fails the build
docs: $(VENV)/.installed-docs
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

# the README's picture of the report's first screen, from the sample (needs Debian's chromium)
screenshot: $(VENV)/.installed-test
	$(BIN)/python scripts/screenshot.py

# the generated-input tests at their large size: over 26,000 inputs (docs/performance.md)
fuzz: $(VENV)/.installed-test
	POOLKIT_FUZZ=1 $(BIN)/python -m pytest -n 2 --dist worksteal -q -p no:cacheprovider tests/test_properties.py tests/test_fuzz.py tests/test_reference.py tests/test_reference_history.py tests/test_cli_fuzz.py tests/test_year.py

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/tidy.py
	$(BIN)/python benchmarks/phones.py
	$(BIN)/python benchmarks/fetch.py
	$(BIN)/python benchmarks/audit.py
	$(BIN)/python benchmarks/report.py
	$(BIN)/python benchmarks/weekly.py

sample: $(VENV)/.installed
	$(BIN)/python scripts/make_sample.py

clean:
	rm -rf $(VENV) data/processed reports
