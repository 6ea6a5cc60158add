# The newest ansible-core (2.21, on Python 3.12) next to the default 2.19 (Python 3.11).
#   make compat   the in-process action's unit tests and the in_process integration target (the same tasks
#                 in-process and as module processes, compared) under ansible-core 2.21
# The in-process action decodes module output with ansible-core internals that differ between 2.19 (a dict)
# and 2.21 (a result object); this is the check that both keep working.

COMPAT_PYTHON ?= $(firstword $(wildcard $(PYENV_ROOT)/versions/3.12*/bin/python3.12) $(shell command -v python3.12))
COMPAT_VENV   := $(BUILD)/venv-compat
COMPAT_SIMDIR ?= $(BUILD)/compat-sim

.PHONY: compat

$(COMPAT_VENV)/.stamp: requirements-compat.txt
	@test -n "$(COMPAT_PYTHON)" || { echo "make compat: no python3.12 found (set COMPAT_PYTHON)"; exit 1; }
	rm -rf $(COMPAT_VENV)
	$(COMPAT_PYTHON) -m venv $(COMPAT_VENV)
	$(COMPAT_VENV)/bin/python -m pip install -q --disable-pip-version-check -r requirements-compat.txt
	@touch $@

compat: collection $(COMPAT_VENV)/.stamp
	@$(COMPAT_VENV)/bin/python -c "import ansible.release as r, sys; print('ansible-core', r.__version__, 'on Python', sys.version.split()[0])"
	cd $(ROOT) && $(COMPAT_VENV)/bin/python -m pytest -q -p no:cacheprovider tests/unit/plugins/action
	@rm -f $(COMPAT_SIMDIR)/state.json
	@tools/simctl start $(COMPAT_SIMDIR) --speed $(SIM_SPEED) >/dev/null
	@trap '$(ROOT)/tools/simctl stop $(COMPAT_SIMDIR)' EXIT; \
	  printf 'tos_api_url: %s\ntos_sim_url: %s\n' "$$(cat $(COMPAT_SIMDIR)/sim.url)" "$$(cat $(COMPAT_SIMDIR)/sim.url)" \
	    > $(COMPAT_SIMDIR)/integration_config.yml; \
	  printf 'localhost ansible_connection=local ansible_python_interpreter=%s\n' "$(COMPAT_VENV)/bin/python" \
	    > $(COMPAT_SIMDIR)/inventory; \
	  cd tests/integration/targets/in_process && \
	  PATH=$(COMPAT_VENV)/bin:$$PATH TOS_INTEGRATION_CONFIG=$(COMPAT_SIMDIR)/integration_config.yml \
	    INVENTORY_PATH=$(COMPAT_SIMDIR)/inventory ./runme.sh

TEST_SUITES += compat
