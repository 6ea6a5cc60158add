# Distribution checks: the Galaxy artifact and the ecosystem tests (execution environment, AWX, docs).
#   make galaxy-check   build the tarball into build/dist, check what it ships, install it into a fresh
#                       path and use it from there (ansible-doc, a playbook against a simulator)
#   make ecosystem      pytest tests/ecosystem (ansible-builder create, AWX jobs through ansible-runner,
#                       ansible-doc of every plugin, docs links)

GALAXY_CHECK_DIR := $(BUILD)/galaxy-check
GALAXY_CHECK_SIM := $(SIMDIR)/galaxy-check
# what must never be in the artifact (paths inside the tarball)
GALAXY_FORBIDDEN := ^(simulator|bench|\.venv|build|tests/output|\.git|\.ci|report|artifacts|\.hypothesis|\.pytest_cache|\.ruff_cache)(/|$$)

.PHONY: galaxy-check ecosystem

galaxy-check: build-collection
	@tarball=$$(ls $(BUILD)/dist/tos-cloud-*.tar.gz); echo "artifact: $$tarball"; \
	  bad=$$(tar -tzf $$tarball | sed 's|^\./||' | grep -E '$(GALAXY_FORBIDDEN)' || true); \
	  if [ -n "$$bad" ]; then echo "the artifact ships what it must not:"; echo "$$bad" | head -20; exit 1; fi; \
	  tar -tzf $$tarball | grep -x 'MANIFEST.json' >/dev/null || { echo "no MANIFEST.json in the artifact"; exit 1; }; \
	  rm -rf $(GALAXY_CHECK_DIR) && mkdir -p $(GALAXY_CHECK_DIR); \
	  env -u PYTHONPATH ANSIBLE_COLLECTIONS_PATH=$(GALAXY_CHECK_DIR)/collections \
	    ansible-galaxy collection install --force --offline --no-deps -p $(GALAXY_CHECK_DIR)/collections $$tarball
	@# from here on, ansible sees only the installed copy
	@test ! -L $(GALAXY_CHECK_DIR)/collections/ansible_collections/tos/cloud
	@cd $(GALAXY_CHECK_DIR) && env -u PYTHONPATH ANSIBLE_COLLECTIONS_PATH=$(GALAXY_CHECK_DIR)/collections \
	  ansible-doc -t module --json tos.cloud.system_info \
	  | python -c 'import json,sys; d=json.load(sys.stdin)["tos.cloud.system_info"]["doc"]; \
	      p=d["filename"]; print("ansible-doc reads", p); \
	      sys.exit(0 if p.startswith("$(GALAXY_CHECK_DIR)/collections/") else "not the installed copy")'
	@tools/simctl start $(GALAXY_CHECK_SIM) --speed $(SIM_SPEED) >/dev/null
	@trap '$(ROOT)/tools/simctl stop $(GALAXY_CHECK_SIM)' EXIT; \
	  cp tests/ecosystem/galaxy_smoke.yml $(GALAXY_CHECK_DIR)/; \
	  cd $(GALAXY_CHECK_DIR) && env -u PYTHONPATH ANSIBLE_COLLECTIONS_PATH=$(GALAXY_CHECK_DIR)/collections \
	    TOS_API_URL=$$(cat $(GALAXY_CHECK_SIM)/sim.url) \
	    ansible-playbook -i localhost, galaxy_smoke.yml
	@echo "galaxy-check: the artifact installs and works on its own"

# one worker per test file: the AWX jobs mostly wait, the ansible-doc renders mostly compute
ecosystem: collection test-state
	cd $(ROOT) && $(GUARD) python -m pytest -q -p no:cacheprovider -n 3 --dist loadfile tests/ecosystem

TEST_SUITES += ecosystem galaxy-check
