# Lint gates: ansible-lint (production profile), yamllint, ruff and pycodestyle, antsibull-docs, antsibull-changelog.
# The tools come from requirements-lint.txt (included by requirements-dev.txt).
#   make lint            all of them
#   make lint-ansible | lint-yaml | lint-python | lint-docs | lint-changelog

# a change to the lint requirements reinstalls the venv
$(VENV)/.stamp: requirements-lint.txt

# Ansible content: the whole collection (no paths: .ansible-lint says what is left out and why)
LINT_ANSIBLE_PATHS ?=
# Python everywhere it lives; directories that do not exist yet are skipped
LINT_PYTHON_PATHS ?= $(wildcard plugins simulator tests bench tools)

.PHONY: lint lint-ansible lint-yaml lint-python lint-docs lint-changelog

LINT_GATES := lint-ansible lint-yaml lint-python lint-docs lint-changelog

# every gate runs, so one run lists all findings; the target fails if any gate did
lint: collection
	@failed=""; for gate in $(LINT_GATES); do \
	  $(MAKE) --no-print-directory $$gate || failed="$$failed $$gate"; done; \
	  if [ -n "$$failed" ]; then echo "lint: failed:$$failed"; exit 1; fi; \
	  echo "lint: all gates passed"

lint-ansible: collection
	cd $(ROOT) && NO_COLOR=1 ansible-lint --nocolor --profile production $(LINT_ANSIBLE_PATHS)

lint-yaml: venv
	cd $(ROOT) && yamllint -f parsable .

# pycodestyle as ansible-test's pep8 sanity test runs it (its version, options and ignore list), on what that
# test sees: ruff has pycodestyle's blank-line and whitespace rules only as preview rules, and a slip there was
# otherwise found only by the 3-minute sanity run
LINT_PEP8_PATHS ?= $(wildcard plugins tests extensions roles playbooks)
lint-python: venv
	cd $(ROOT) && ruff check --no-cache --output-format concise $(LINT_PYTHON_PATHS)
	cd $(ROOT) && python -m pycodestyle --max-line-length 160 --ignore E402,W503,W504,E741,E203,E701,E704 \
	  --exclude build,.venv,output $(LINT_PEP8_PATHS)

# plugin docs are read through ansible-doc, so run where ansible sees the collection
lint-docs: collection
	cd $(COLL_LINK) && antsibull-docs lint-collection-docs --plugin-docs .

lint-changelog: venv
	cd $(ROOT) && antsibull-changelog lint

TEST_SUITES += lint
