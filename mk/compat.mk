# The newest ansible-core (2.21, on Python 3.12) next to the default 2.19 (Python 3.11).
#   make compat   the in-process action's unit tests and the in_process integration target (the same tasks
#                 in-process and as module processes, compared) under ansible-core 2.21
# The in-process action decodes module output with ansible-core internals that differ between 2.19 (a dict)
# and 2.21 (a result object); this is the check that both keep working.
# The version matrix (mk/matrix.mk) runs all of it, and more, on every supported ansible-core line in make
# test; `make compat` stays as the quick run of this one check, in the matrix's venv build/venv-2.21.

COMPAT_VERSION ?= 2.21
COMPAT_VENV   := $(BUILD)/venv-$(COMPAT_VERSION)
COMPAT_SIMDIR ?= $(BUILD)/compat-sim

.PHONY: compat

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
