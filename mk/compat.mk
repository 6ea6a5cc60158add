# The newer ansible-core lines (2.20 and 2.21, on Python 3.12) next to the default 2.19 (Python 3.11).
#   make compat                          2.21, the newest line (part of make test)
#   make compat-2.20, make compat COMPAT_LINES="2.20 2.21"
#                                        2.20 too: about 2 minutes more (a venv and the integration target), so
#                                        not part of make test
# For each line: the in-process action's unit tests and the in_process integration target (the same tasks
# in-process and as module processes, compared).
# The in-process action decodes module output with ansible-core internals that differ between 2.19 (a dict)
# and 2.21 (a result object), and runs in-process only on the lines it was tested with (in_process.TESTED_CORE):
# this is the check that each keeps working.

COMPAT_PYTHON ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12) $(shell command -v python3.12))
COMPAT_LINES  ?= 2.21

.PHONY: compat compat-2.20 compat-2.21

# $(1): the ansible-core line, $(2): its requirements file
define compat_line
$(BUILD)/venv-compat-$(1)/.stamp: $(2)
	@test -n "$(COMPAT_PYTHON)" || { echo "make compat: no python3.12 found (set COMPAT_PYTHON)"; exit 1; }
	rm -rf $(BUILD)/venv-compat-$(1)
	$(COMPAT_PYTHON) -m venv $(BUILD)/venv-compat-$(1)
	$(BUILD)/venv-compat-$(1)/bin/python -m pip install -q --disable-pip-version-check -r $(2)
	@touch $$@

compat-$(1): collection $(BUILD)/venv-compat-$(1)/.stamp
	@$(BUILD)/venv-compat-$(1)/bin/python -c "import ansible.release as r, sys; print('ansible-core', r.__version__, 'on Python', sys.version.split()[0])"
	cd $(ROOT) && $(BUILD)/venv-compat-$(1)/bin/python -m pytest -q -p no:cacheprovider tests/unit/plugins/action
	@rm -f $(BUILD)/compat-sim-$(1)/state.json
	@tools/simctl start $(BUILD)/compat-sim-$(1) --speed $(SIM_SPEED) >/dev/null
	@trap '$(ROOT)/tools/simctl stop $(BUILD)/compat-sim-$(1)' EXIT; \
	  printf 'tos_api_url: %s\ntos_sim_url: %s\n' "$$$$(cat $(BUILD)/compat-sim-$(1)/sim.url)" \
	    "$$$$(cat $(BUILD)/compat-sim-$(1)/sim.url)" > $(BUILD)/compat-sim-$(1)/integration_config.yml; \
	  printf 'localhost ansible_connection=local ansible_python_interpreter=%s\n' \
	    "$(BUILD)/venv-compat-$(1)/bin/python" > $(BUILD)/compat-sim-$(1)/inventory; \
	  cd tests/integration/targets/in_process && \
	  PATH=$(BUILD)/venv-compat-$(1)/bin:$$$$PATH TOS_INTEGRATION_CONFIG=$(BUILD)/compat-sim-$(1)/integration_config.yml \
	    INVENTORY_PATH=$(BUILD)/compat-sim-$(1)/inventory ./runme.sh
endef
$(eval $(call compat_line,2.21,requirements-compat.txt))
$(eval $(call compat_line,2.20,requirements-compat-2.20.txt))

compat: $(addprefix compat-,$(COMPAT_LINES))

TEST_SUITES += compat
