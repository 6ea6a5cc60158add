# The ansible-core version matrix: meta/runtime.yml says ">=2.19.0,<2.22", and this is what makes it true.
# ansible-core 2.19 (Python 3.11, .venv) is the default of every other suite (units, sanity, integration-all,
# molecule...). For each newer line, on a controller Python it supports, `make matrix` runs what can differ
# between ansible-core versions:
#   - ansible-test sanity: validate-modules, ansible-doc, runtime-metadata (the other sanity tests check our
#     code's style, which does not depend on ansible-core; they run once, on 2.19, in `make sanity`). Not import:
#     `make sanity` runs it on every target Python (3.8-3.13), and what it would add per version - our plugins
#     and modules importing against that ansible-core - the unit tests below do, all of them; its two
#     environments per version were about a third of the matrix's cost on a new machine.
#   - every unit test (tests/unit, ~35 s)
#   - the smoke integration run: tests/integration/targets/in_process, the same API tasks in-process and as
#     module processes, results and requests compared (the in-process action uses ansible-core internals that
#     changed after 2.19), against a private simulator
# Each version has its own venv build/venv-<version>, tree copy and simulator; the sanity runs go one after the
# other, the units and smoke runs side by side. No sanity ignore file may hold an entry, on any version.
#   make matrix                 every version below
#   make matrix-2.20            one version
#   make matrix MATRIX=2.21:3.13  another Python for a version

# <ansible-core line>:<controller Python>
MATRIX ?= 2.20:3.13 2.21:3.12
MATRIX_VERSIONS := $(foreach m,$(MATRIX),$(firstword $(subst :, ,$(m))))
MATRIX_SANITY_TESTS ?= validate-modules ansible-doc runtime-metadata

matrix_python = $(lastword $(subst :, ,$(filter $(1):%,$(MATRIX))))
matrix_next = $(word 1,$(subst ., ,$(1))).$(shell echo $$(( $(word 2,$(subst ., ,$(1))) + 1 )))

.PHONY: matrix sanity-no-ignores $(foreach p,matrix matrix-sanity matrix-run,$(addprefix $(p)-,$(MATRIX_VERSIONS)))

# pip's notes about the unused local indexes of this machine's pip.conf are noise here
MATRIX_PIP_FILTER := grep -v "is ignored: it is neither a file nor a directory" || true

$(BUILD)/venv-%/.stamp: requirements-matrix.txt requirements.txt
	@py=$(call matrix_python,$*); test -n "$$py" || { echo "ansible-core $* is not in MATRIX ($(MATRIX))"; exit 1; }; \
	  interp=$$(ls $(PYENV_ROOT)/versions/$$py*/bin/python$$py 2>/dev/null | head -1); \
	  interp=$${interp:-$$(command -v python$$py)}; \
	  test -n "$$interp" || { echo "make matrix: no python$$py for ansible-core $*"; exit 1; }; \
	  rm -rf $(BUILD)/venv-$* && $$interp -m venv $(BUILD)/venv-$* && \
	  { $(BUILD)/venv-$*/bin/python -m pip install -q --disable-pip-version-check -r requirements-matrix.txt \
	      "ansible-core>=$*,<$(call matrix_next,$*)" 2>&1 | $(MATRIX_PIP_FILTER); }
	@$(BUILD)/venv-$*/bin/python -c "import ansible.release as r; assert r.__version__.startswith('$*.'), r.__version__"
	@touch $@

sanity-no-ignores:
	@bad=$$(cat tests/sanity/ignore-*.txt 2>/dev/null | grep -v '^\s*\(#\|$$\)' || true); \
	  if [ -n "$$bad" ]; then echo "sanity ignore entries are not allowed:"; echo "$$bad"; exit 1; fi

# ansible-test sanity of one version, in the real HOME like `make sanity` (its venvs stay warm between runs;
# the versions run one after the other, so nothing under HOME is created by two at once)
$(addprefix matrix-sanity-,$(MATRIX_VERSIONS)): matrix-sanity-%: collection $(GET_PIP_CACHE)/.stamp $(BUILD)/venv-%/.stamp sanity-no-ignores
	@py=$(call matrix_python,$*); venv=$(BUILD)/venv-$*; copy=$(BUILD)/matrix-$*/ansible_collections/tos/cloud; \
	  echo "== matrix: sanity on ansible-core $$($$venv/bin/python -c 'import ansible.release as r; print(r.__version__)') with Python $$py"; \
	  tools/sanity-copy $$copy; \
	  cd $$copy && env -u PYTHONPATH PATH=$$venv/bin:$(PYBIN):$$PATH \
	    ansible-test sanity --color no --python $$py $(addprefix --test ,$(MATRIX_SANITY_TESTS)) \
	    $(foreach d,simulator bench tools,$(if $(wildcard $(d)),--exclude $(d)/)) 2>&1 \
	    | { grep -v -e 'is ignored: it is neither' -e '^Looking in' -e '^Collecting' -e 'Downloading' -e '^Installing' \
	        -e '^Successfully' -e '^Processing' -e '━' -e 'Using locale' -e 'Reviewing previous' -e 'Attempting uninstall' \
	        -e 'Found existing installation' -e 'Uninstalling' -e '^Requirement already' || true; }

# every unit test and the in_process smoke run of one version, against its own simulator
$(addprefix matrix-run-,$(MATRIX_VERSIONS)): matrix-run-%: collection $(BUILD)/venv-%/.stamp
	@start=$$(date +%s); venv=$(BUILD)/venv-$*; sim=$(BUILD)/matrix-$*/sim; \
	  echo "== matrix: units and smoke on ansible-core $*"; \
	  $$venv/bin/python -m pytest -q -p no:cacheprovider tests/unit; \
	  rm -f $$sim/state.json; \
	  tools/simctl start $$sim --speed $(SIM_SPEED) $(SIM_OPTS) >/dev/null; \
	  trap '$(ROOT)/tools/simctl stop '$$sim EXIT; \
	  printf 'tos_api_url: %s\ntos_sim_url: %s\n' "$$(cat $$sim/sim.url)" "$$(cat $$sim/sim.url)" > $$sim/integration_config.yml; \
	  printf 'localhost ansible_connection=local ansible_python_interpreter=%s\n' "$$venv/bin/python" > $$sim/inventory; \
	  ( cd tests/integration/targets/in_process && PATH=$$venv/bin:$$PATH TOS_INTEGRATION_CONFIG=$$sim/integration_config.yml \
	      INVENTORY_PATH=$$sim/inventory ./runme.sh ); \
	  echo "matrix-run-$*: passed in $$(( $$(date +%s) - start )) s"

# one version: its sanity, then its units and smoke
$(addprefix matrix-,$(MATRIX_VERSIONS)): matrix-%: matrix-sanity-%
	@$(MAKE) --no-print-directory matrix-run-$*

# every version: the sanity runs one after the other, then the units and smoke runs side by side (two cores)
# as one guarded parallel phase (HOME=$(STATE_HOME), see test-state)
matrix: collection test-state $(foreach v,$(MATRIX_VERSIONS),$(BUILD)/venv-$(v)/.stamp)
	@for v in $(MATRIX_VERSIONS); do $(MAKE) --no-print-directory matrix-sanity-$$v || exit 1; done
	@$(GUARD) $(MAKE) --no-print-directory -j$(words $(MATRIX_VERSIONS)) --output-sync=target $(addprefix matrix-run-,$(MATRIX_VERSIONS))

TEST_SUITES += matrix
