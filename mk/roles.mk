# The roles (cluster_bringup, inspection_report, rolling_upgrade, drift_report), their playbooks and the demo report.
#   make molecule         molecule test of every role's default scenario against a private simulator
#   make roles-tests      pytest tests/roles: the HTML report in headless Chromium (screenshot in
#                         build/artifacts/), the rolling upgrade stopped by a fault and resumed, the
#                         report mail through a local SMTP sink
#   make molecule-<role>  one role's scenario, e.g. make molecule-rolling_upgrade
# Both start their own simulator in $(SIMDIR)/roles-* (pass SIMDIR=... to run beside others).

ROLES          := cluster_bringup inspection_report rolling_upgrade drift_report
ROLES_SIMDIR   := $(SIMDIR)/roles-molecule
ARTIFACTS      := $(BUILD)/artifacts
CHROMIUM       ?= $(shell command -v chromium || command -v chromium-browser || echo chromium)

# documented-only answers, each scenario under another reading of the open points (simulator/README.md)
MOLECULE_SIM_OPTS_cluster_bringup  ?= --page-base 0 --page-size-zero default --task-failure reset --cvm-host topology
MOLECULE_SIM_OPTS_inspection_report ?= --page-base 1 --page-size-zero default --task-failure stop
MOLECULE_SIM_OPTS_rolling_upgrade  ?= --page-base 1 --page-size-zero all --task-failure error --cvm-host topology
MOLECULE_SIM_OPTS_drift_report     ?= --page-base 0 --page-size-zero all --task-failure stop

.PHONY: molecule roles-tests chromium $(addprefix molecule-,$(ROLES))

# molecule comes from requirements-molecule.txt, installed into the venv when it changes
$(VENV)/.molecule-stamp: requirements-molecule.txt $(VENV)/.stamp
	$(VPY) -m pip install -q --disable-pip-version-check -r requirements-molecule.txt
	@touch $@

# the scenarios at once: each has its own simulator and molecule state (build/molecule/<role>, emptied first: what a
# first destroy step would do, without its playbook run)
molecule: collection $(VENV)/.molecule-stamp test-state
	@$(GUARD) $(MAKE) --no-print-directory -j$(words $(ROLES)) --output-sync=target $(addprefix molecule-,$(ROLES))

$(addprefix molecule-,$(ROLES)): molecule-%: collection $(VENV)/.molecule-stamp
	@rm -f $(ROLES_SIMDIR)-$*/state.json
	@rm -rf $(BUILD)/molecule/$*
	@tools/simctl start $(ROLES_SIMDIR)-$* --speed $(SIM_SPEED) $(MOLECULE_SIM_OPTS_$*) >/dev/null
	@trap '$(ROOT)/tools/simctl stop $(ROLES_SIMDIR)-$*' EXIT; \
	  export TOS_API_URL=$$(cat $(ROLES_SIMDIR)-$*/sim.url) TOS_SIM_URL=$$(cat $(ROLES_SIMDIR)-$*/sim.url) \
	    MOLECULE_EPHEMERAL_DIRECTORY=$(BUILD)/molecule/$* ANSIBLE_FORCE_COLOR=0 NO_COLOR=1; \
	  cd $(ROOT)/roles/$* && molecule test

# Debian's chromium for the browser test; installed when missing (as root, as on CI)
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  echo "installing chromium (Debian package) for the report's browser test"; \
	  $(APT_GET) update -qq && DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y -qq chromium fonts-wqy-zenhei >/dev/null; }
	@fc-list 2>/dev/null | grep -qi -e wqy -e 'noto sans cjk' || { \
	  DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y -qq fonts-wqy-zenhei >/dev/null 2>&1 || \
	  echo "no CJK font: the screenshot shows the Chinese messages as boxes"; }

roles-tests: collection chromium test-state
	@mkdir -p $(ARTIFACTS)
	cd $(ROOT) && TOS_ARTIFACTS=$(ARTIFACTS) CHROMIUM=$(CHROMIUM) $(GUARD) python -m pytest -q -p no:cacheprovider -n 3 --dist loadfile tests/roles

TEST_SUITES += molecule roles-tests
