# The documentation site: antsibull-docs' pages of every module, plugin and role (from their own
# DOCUMENTATION and argument specs) plus the guides of docs/, built offline with Sphinx into build/docs.
#   make docs         build/docs/index.html (in its own venv build/venv-docs, requirements-docs.txt)
#   make docs-test    the site in headless Chromium: pages render with no console message, every link inside
#                     the site resolves, the search finds the modules (tests/docs)
# Not part of make test: it costs about 1.5 min (2 min cold) and the parts that can break through a code
# change are already in make test (lint-docs runs antsibull-docs' own checks, tests/ecosystem renders every
# plugin's docs). make release builds and tests the site.

DOCS_VENV   := $(BUILD)/venv-docs
DOCS_SRC    := $(BUILD)/docs-src
DOCS_OUT    := $(BUILD)/docs
DOCS_PYTHON ?= $(PYTHON)

.PHONY: docs docs-test

$(DOCS_VENV)/.stamp: requirements-docs.txt
	rm -rf $(DOCS_VENV)
	$(DOCS_PYTHON) -m venv $(DOCS_VENV)
	$(DOCS_VENV)/bin/python -m pip install -q --disable-pip-version-check -r requirements-docs.txt 2>&1 \
	  | { grep -v "is ignored: it is neither a file nor a directory" || true; }
	@touch $@

# antsibull-docs reads the collection through ansible-doc (ansible-core 2.19 of .venv, after the docs venv's
# own tools on PATH); warnings fail the Sphinx build (-W), so an unresolved reference cannot slip in
docs: collection $(DOCS_VENV)/.stamp
	@rm -rf $(DOCS_SRC) $(DOCS_OUT) && mkdir -p $(DOCS_SRC)/rst && chmod og-w $(DOCS_SRC)/rst
	PATH=$(DOCS_VENV)/bin:$$PATH antsibull-docs collection --use-current --fail-on-error --cleanup everything \
	  --dest-dir $(DOCS_SRC)/rst tos.cloud 2>&1 | { grep -v CryptographyDeprecationWarning | grep -v 'from cryptography' || true; }
	python tools/docs_site.py $(DOCS_SRC)
	PATH=$(DOCS_VENV)/bin:$$PATH sphinx-build -q -W --keep-going -b html -j 2 -c $(DOCS_SRC) $(DOCS_SRC)/rst $(DOCS_OUT)
	@echo "docs: $(DOCS_OUT)/index.html"

docs-test: chromium
	@test -f $(DOCS_OUT)/index.html || $(MAKE) --no-print-directory docs
	cd $(ROOT) && TOS_DOCS_DIR=$(DOCS_OUT) CHROMIUM=$(CHROMIUM) python -m pytest -q -p no:cacheprovider tests/docs
