# tos.cloud — everything runs from a fresh clone with: make demo | make test
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

ROOT       := $(CURDIR)
PYTHON     ?= $(shell command -v python3.11 || command -v python3)
VENV       := $(ROOT)/.venv
VPY        := $(VENV)/bin/python
BUILD      := $(ROOT)/build
# ansible finds the collection here (a link to this tree)
COLLECTIONS := $(BUILD)/collections
COLL_LINK  := $(COLLECTIONS)/ansible_collections/tos/cloud
# ansible-test works on a copy (it resolves links and wants the real path to end in ansible_collections/tos/cloud)
TEST_ROOT  ?= $(BUILD)/test
TEST_COPY  := $(TEST_ROOT)/ansible_collections/tos/cloud
PYBIN      := $(BUILD)/pybin
SIMDIR     ?= $(BUILD)/sim
SIM_SPEED  ?= 40
# Simulator readings (simulator/README.md): documented-only answers by default; e.g.
#   SIM_OPTS="--page-base 0 --page-size-zero default --task-failure reset"   or   SIM_OPTS="--extensions all"
SIM_OPTS   ?=
# the demo's reading (pages from 0, page_size 0 = a default page, a failed task answers an error)
DEMO_SIM_OPTS ?= --page-base 0 --page-size-zero default --task-failure error
GET_PIP_CACHE := $(HOME)/.ansible/test/cache
# Debian packages some suites need (chromium, Java): one apt-get at a time, since make test builds installs
# while the lanes run (dpkg allows one), waiting for another dpkg user too
APT_GET = flock $(or $(TMPDIR),/tmp)/tos-cloud-apt.lock apt-get -o DPkg::Lock::Timeout=300
# pyenv's Pythons (python3.X for ansible-test, the compat venvs) stay reachable when a suite runs
# with another HOME (see STATE_HOME)
export PYENV_ROOT ?= $(HOME)/.pyenv
# The suites that run as parallel workers (integration shards, molecule scenarios, pytest-xdist
# workers) run with HOME=$(STATE_HOME): made empty, then given what the workers share, once per make
# run (test-state), before any of them starts. GUARD wraps each parallel phase and fails it when it
# created shared state while its workers ran (tools/state-guard), so every `make test` is a first run
# and a new race fails it on any machine, not only on a new one.
STATE_HOME ?= $(BUILD)/home
GUARD = $(ROOT)/tools/state-guard run $(STATE_HOME) --watch $(COLLECTIONS) --watch $(PYBIN) --

export PATH := $(PYBIN):$(VENV)/bin:$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH := false
export PYTHONPATH := $(COLLECTIONS):$(ROOT)
export ANSIBLE_FORCE_COLOR := 0
export PY_COLORS := 0
export ANSIBLE_NOCOLOR := 1

# Suites owned by other areas add themselves in mk/*.mk with: TEST_SUITES += <target>
TEST_SUITES :=
-include mk/*.mk

.PHONY: help venv collection test-state demo test test-lanes units simtests sanity shellcheck integration integration-all integration-extended lint \
        molecule clean \
        sim-start sim-stop build-collection

help:
	@echo "make demo   - bring up the demo clouds on the simulator and render an inspection report"
	@echo "make test   - everything that must pass: units, simulator, sanity, integration, molecule, lint"
	@echo "make bench  - the benchmark (not part of make test)"

# ---- environment -------------------------------------------------------------------------

$(VENV)/.stamp: requirements.txt requirements-dev.txt
	@test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(VPY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	@touch $@

venv: $(VENV)/.stamp

$(PYBIN)/.stamp:
	@mkdir -p $(PYBIN)
	@for v in $(PYENV_ROOT)/versions/*/bin/python3.*; do \
	  case "$$v" in *-config|*m|*.py) continue;; esac; \
	  n=$$(basename $$v); [ -e $(PYBIN)/$$n ] || ln -sfn $$v $(PYBIN)/$$n; done
	@touch $@

$(GET_PIP_CACHE)/.stamp: tools/get_pip_stub.py
	@mkdir -p $(GET_PIP_CACHE)
	@for v in 24_2 25_2; do cp tools/get_pip_stub.py $(GET_PIP_CACHE)/get_pip_$$v.py; done
	@touch $@

# a no-op when the link is there, so parallel sub-makes (integration shards) never touch it; else made
# under a temporary name and renamed into place (atomic)
collection: venv $(PYBIN)/.stamp
	@test "$$(readlink $(COLL_LINK) 2>/dev/null)" = ../../../.. || { mkdir -p $(dir $(COLL_LINK)) && \
	  ln -sfn ../../../.. $(COLL_LINK).$$$$ && mv -T $(COLL_LINK).$$$$ $(COLL_LINK); }

# an empty HOME with the state the parallel suites share (ansible-test's SSH key and get-pip stand-ins)
# STATE_READY=1 (make test's lanes): already made for this run; making it again would empty the HOME
# under suites that run
test-state: collection
	@if [ "$(STATE_READY)" != 1 ]; then tools/state-guard prepare $(STATE_HOME); fi

# ---- the simulator -----------------------------------------------------------------------

sim-start: venv
	@tools/simctl start $(SIMDIR) --speed $(SIM_SPEED) --state-file $(SIMDIR)/state.json $(SIM_OPTS) >/dev/null
	@echo "simulator at $$(cat $(SIMDIR)/sim.url)"

sim-stop:
	@tools/simctl stop $(SIMDIR)

# ---- demo --------------------------------------------------------------------------------

demo: collection
	@rm -f $(SIMDIR)/state.json
	@tools/simctl start $(SIMDIR) --speed $(SIM_SPEED) --state-file $(SIMDIR)/state.json $(DEMO_SIM_OPTS) >/dev/null
	@trap 'tools/simctl stop $(SIMDIR)' EXIT; \
	  TOS_API_URL=$$(cat $(SIMDIR)/sim.url) ansible-playbook -i playbooks/inventory/demo.ini playbooks/site.yml \
	    -e tos_report_dir=$(ROOT)/report
	@echo; echo "Report: $(ROOT)/report/index.html"

# ---- tests -------------------------------------------------------------------------------

# ---- make test: two lanes and a shared tail -------------------------------------------------
# Every suite runs in one of two lanes, and the lanes run at once, one per core. Within a lane the suites run
# one after the other. Each lane starts with suites it must hold: the first lane those that use ansible-test in
# the real HOME (sanity, then the matrix's sanity: one at a time, they create its venvs) and those that mostly
# wait (units, simtests, lint), the second the suites that drive ansible-playbook and keep more than a core busy
# (integration, reliability, roles-tests). Then comes the tail (TEST_TAIL, longest first): one queue that both
# lanes take from, each when it is free (tools/run-tail), so the lanes end together whichever part ran slow
# on the day (fixed lanes ended ~100 s apart on a slow run, and which lane ended last flipped between runs).
# A tail suite must not use ansible-test in the real HOME. What the suites share (the venv, the collection
# link, the state HOME of the guard) is made once, first; what only some need (chromium, Java, shellcheck, the
# EDA and matrix venvs, molecule) is a prerequisite of that suite's step (of both tail steps for a tail suite),
# so make builds it once, in a free job slot, while the lanes run (TEST_JOBS slots: the two lanes and one for
# installs). Each suite's output goes to build/logs/<suite>.log and is printed whole when the suite ends
# (tools/run-suite). `make test TEST_JOBS=1` runs it all serially.
# A suite added by an mk/*.mk file (TEST_SUITES += x) joins the second lane unless listed in TEST_LANE_CPU or
# TEST_TAIL.
TEST_ALL       := units simtests sanity integration-all $(TEST_SUITES)
TEST_LANE_CPU  ?= units simtests sanity lint matrix
TEST_TAIL      ?= properties eda-test molecule ecosystem bench-quick galaxy-check
TEST_LANE_WAIT ?= $(filter-out $(TEST_LANE_CPU) $(TEST_TAIL),$(TEST_ALL))
TEST_TAIL_RUN  := $(filter $(TEST_ALL),$(TEST_TAIL))
TEST_JOBS      ?= 3
TEST_LOGS      := $(BUILD)/logs
# the installs a suite needs before it starts (each defined in its mk/*.mk)
TEST_NEEDS_eda-test   = eda-java eda-venv
TEST_NEEDS_roles-tests = chromium
TEST_NEEDS_molecule   = $(VENV)/.molecule-stamp
TEST_NEEDS_matrix     = $(foreach v,$(MATRIX_VERSIONS),$(BUILD)/venv-$(v)/.stamp)
TEST_NEEDS_sanity     = $(GET_PIP_CACHE)/.stamp shellcheck

test: collection test-state
	@rm -rf $(TEST_LOGS); mkdir -p $(TEST_LOGS); start=$$(date +%s); \
	  echo "make test: lane 1: $(filter $(TEST_ALL),$(TEST_LANE_CPU)); lane 2: $(TEST_LANE_WAIT); then either lane: $(TEST_TAIL_RUN)"; \
	  status=0; $(MAKE) --no-print-directory -j$(TEST_JOBS) STATE_READY=1 test-lanes || status=$$?; \
	  echo "== time per suite (s):     wall   CPU"; sort -k2 -n -r $(TEST_LOGS)/times 2>/dev/null | \
	    awk '{printf "   %-16s %5d %5d%s\n", $$1, $$2, $$4, ($$3 == 0 ? "" : "  FAILED")}'; \
	  echo "== make test: $$(( $$(date +%s) - start )) s"; \
	  if [ $$status -ne 0 ]; then echo "make test: FAILED"; exit $$status; fi; \
	  missing=$$(for s in $(TEST_ALL); do grep -q "^$$s " $(TEST_LOGS)/times || echo $$s; done); \
	  if [ -n "$$missing" ]; then echo "make test: these suites did not run: $$missing"; exit 1; fi; \
	  echo "make test: all suites passed"

# each lane is a chain: a step waits (order-only) for the one before it in its lane
order_chain = $(if $(word 2,$(1)),$(eval $(word 2,$(1)): | $(firstword $(1)))$(call order_chain,$(wordlist 2,$(words $(1)),$(1))))
$(call order_chain,$(addprefix test-step-,$(filter $(TEST_ALL),$(TEST_LANE_CPU)) $(if $(TEST_TAIL_RUN),test-tail-1)))
$(call order_chain,$(addprefix test-step-,$(TEST_LANE_WAIT) $(if $(TEST_TAIL_RUN),test-tail-2)))
# In make test the installs run one at a time, in the order the lanes need them: make hands a freed job slot to
# whatever asked for one first, and with several installs waiting, the next suite of the lane that had just
# freed it waited behind them (about 25 s after units, on a cold start). Chained, at most one install runs or
# waits, so the lanes always have their two slots. Only in the make that runs the lanes (its goal, not a
# variable, which would reach every sub-make: the matrix's own make then built the sanity's get-pip stamp in
# the guard's HOME), as `make roles-tests` alone must not install the matrix's venvs either.
ifeq ($(MAKECMDGOALS),test-lanes)
$(call order_chain,$(foreach s,sanity roles-tests matrix $(TEST_TAIL),$(if $(filter $(s),$(TEST_ALL)),$(TEST_NEEDS_$(s)))))
endif
$(foreach s,$(filter-out $(TEST_TAIL),$(TEST_ALL)),$(eval test-step-$(s): $$(TEST_NEEDS_$(s))))

test-lanes: $(addprefix test-step-,$(filter-out $(TEST_TAIL),$(TEST_ALL))) $(if $(TEST_TAIL_RUN),test-step-test-tail-1 test-step-test-tail-2)

# the tail: both lanes' last step, one queue (tools/run-tail); each needs every tail suite's installs
test-step-test-tail-1 test-step-test-tail-2: $(foreach s,$(TEST_TAIL_RUN),$(TEST_NEEDS_$(s)))
	@MAKE="$(MAKE)" tools/run-tail $(TEST_LOGS) $(TEST_TAIL_RUN)

# not .PHONY: a phony target would not get this pattern's recipe (no file is ever made)
test-step-%:
	@MAKE="$(MAKE)" tools/run-suite $(TEST_LOGS) $*

units: collection
	cd $(ROOT) && python -m pytest -q -p no:cacheprovider tests/unit

simtests: collection
	cd $(ROOT) && python -m pytest -q -p no:cacheprovider tests/simulator

$(TEST_COPY): FORCE
	@tools/sanity-copy $(TEST_COPY)

# Debian's shellcheck: without it ansible-test skips its shellcheck test with a warning, and the runme.sh scripts
# of the integration targets go unchecked; installed when missing (as root, as on CI)
shellcheck:
	@command -v shellcheck >/dev/null 2>&1 || { \
	  echo "installing shellcheck (Debian package) for the sanity test of the shell scripts"; \
	  $(APT_GET) update -qq && DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y -qq shellcheck >/dev/null; }

sanity: collection shellcheck $(GET_PIP_CACHE)/.stamp $(TEST_COPY)
	cd $(TEST_COPY) && ansible-test sanity --color no $(foreach d,simulator bench tools,$(if $(wildcard $(d)),--exclude $(d)/))

integration: collection $(TEST_COPY)
	@rm -f $(SIMDIR)/state.json
	@tools/simctl start $(SIMDIR) --speed $(SIM_SPEED) $(SIM_OPTS) >/dev/null
	@trap 'tools/simctl stop $(SIMDIR)' EXIT; \
	  printf 'tos_api_url: %s\ntos_sim_url: %s\n' "$$(cat $(SIMDIR)/sim.url)" "$$(cat $(SIMDIR)/sim.url)" \
	    > $(TEST_COPY)/tests/integration/integration_config.yml; \
	  cd $(TEST_COPY) && ansible-test integration --color no --local $(INTEGRATION_TARGETS)

# every target, in two shards at once (2 cores), each with its own tree copy and simulator
INTEGRATION_SHARDS ?= 2
# plus, at the same time (the shards mostly wait on the simulator's clock), the smaller extended run; all three
# ansible-test runs are one guarded parallel phase
integration-all: collection test-state
	@mkdir -p $(BUILD); $(GUARD) bash -c '$(MAKE) --no-print-directory integration-extended \
	    >$(BUILD)/integration-extended.log 2>&1 & ext=$$!; \
	  status=0; tools/integration-shards $(INTEGRATION_SHARDS) $(BUILD) || status=1; \
	  if wait $$ext; then echo "integration-extended: passed"; else status=1; cat $(BUILD)/integration-extended.log; fi; \
	  exit $$status'

# the simulator's additions (--extensions all: host task status and messages, MachineUUID, its codes) on the
# target that reads them as a bonus (the upgrade's failure messages); documented-only runs cover the rest
EXTENDED_TARGETS ?= upgrade
integration-extended: collection
	@$(MAKE) --no-print-directory integration TEST_ROOT=$(BUILD)/test-extended SIMDIR=$(BUILD)/sim-extended \
	  INTEGRATION_TARGETS="$(EXTENDED_TARGETS)" SIM_OPTS="--extensions all"

# one target, e.g.: make integration-cluster  (TEST_ROOT/SIMDIR may point elsewhere to run in parallel)
integration-%:
	@$(MAKE) --no-print-directory integration INTEGRATION_TARGETS=$*

build-collection: collection
	@rm -rf $(BUILD)/dist && mkdir -p $(BUILD)/dist
	ansible-galaxy collection build --force --output-path $(BUILD)/dist .

clean:
	rm -rf $(BUILD) tests/output report

FORCE:
