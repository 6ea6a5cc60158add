# Releasing (docs/releasing.md). The version is set in galaxy.yml only; tools/version.py derives the rest.
#   make version-check      every place that names the version agrees with galaxy.yml (part of make lint)
#   make changelog-release  fold the fragments present now into the release section of the galaxy.yml version
#                           (antsibull-changelog release --update-existing: a release already written is
#                           updated, so fragments merged after it was first written are not lost)
#   make release            changelog-release, every gate (make test, then the documentation site: make docs
#                           and make docs-test), the tarball ./tos-cloud-<version>.tar.gz,
#                           installed with ansible-galaxy into an empty collections path, and the demo run from
#                           that installed copy. RELEASE_SKIP_TEST=1 skips the make test step (for working on
#                           the release steps themselves; a real release never sets it).

VERSION          := $(shell $(PYTHON) $(ROOT)/tools/version.py 2>/dev/null)
RELEASE_TARBALL  := $(ROOT)/tos-cloud-$(VERSION).tar.gz
RELEASE_DIR      := $(BUILD)/release
RELEASE_SIM      := $(SIMDIR)/release
RELEASE_DATE     ?= $(shell date -u +%F)
RELEASE_SKIP_TEST ?=

.PHONY: version-check changelog-release release release-gates release-build release-install release-demo

version-check:
	@$(PYTHON) tools/version.py check && echo "version-check: every place names $(VERSION)"

# ansible-doc (run by antsibull-changelog to list new plugins and roles; --reload-plugins, as plugins merged
# after the section was first written are not in its cache) finds the collection through
# build/collections; a fragment left over afterwards would be a fragment that failed to fold in.
changelog-release: collection
	cd $(ROOT) && antsibull-changelog lint
	cd $(ROOT) && antsibull-changelog release --version $(VERSION) --date $(RELEASE_DATE) --update-existing --reload-plugins
	@left=$$(ls changelogs/fragments | grep -v '^\.' || true); \
	  if [ -n "$$left" ]; then echo "fragments not folded into $(VERSION): $$left"; exit 1; fi
	@grep -q '^v$(subst .,\.,$(VERSION))$$' CHANGELOG.rst || { echo "CHANGELOG.rst has no v$(VERSION) section"; exit 1; }
	@echo "changelog-release: CHANGELOG.rst and changelogs/changelog.yaml hold $(VERSION); commit them"

release-gates: version-check
ifeq ($(RELEASE_SKIP_TEST),)
	@$(MAKE) --no-print-directory test
else
	@echo "release: RELEASE_SKIP_TEST is set, make test NOT run (this is not a release)"
endif
	@$(MAKE) --no-print-directory docs
	@$(MAKE) --no-print-directory docs-test

release-build: collection
	@rm -f $(RELEASE_TARBALL)
	ansible-galaxy collection build --force --output-path $(ROOT) .
	@test -f $(RELEASE_TARBALL) || { echo "no $(RELEASE_TARBALL)"; exit 1; }

# an empty collections path, nothing from the source tree on PYTHONPATH or in the collections search path
release-install: release-build
	@rm -rf $(RELEASE_DIR) && mkdir -p $(RELEASE_DIR)/collections
	env -u PYTHONPATH ANSIBLE_COLLECTIONS_PATH=$(RELEASE_DIR)/collections \
	  ansible-galaxy collection install --offline --no-deps -p $(RELEASE_DIR)/collections $(RELEASE_TARBALL)
	@installed=$(RELEASE_DIR)/collections/ansible_collections/tos/cloud; \
	  test -f $$installed/MANIFEST.json && test ! -L $$installed; \
	  python -c 'import json,sys; v=json.load(open(sys.argv[1]))["collection_info"]["version"]; \
	    sys.exit(0 if v == "$(VERSION)" else "installed version %s, not $(VERSION)" % v)' $$installed/MANIFEST.json

# the demo (make demo) from the installed copy's playbooks, with only the installed copy visible to ansible
release-demo: release-install
	@rm -f $(RELEASE_SIM)/state.json
	@tools/simctl start $(RELEASE_SIM) --speed $(SIM_SPEED) --state-file $(RELEASE_SIM)/state.json $(DEMO_SIM_OPTS) >/dev/null
	@trap '$(ROOT)/tools/simctl stop $(RELEASE_SIM)' EXIT; \
	  cd $(RELEASE_DIR)/collections/ansible_collections/tos/cloud && \
	  env -u PYTHONPATH ANSIBLE_COLLECTIONS_PATH=$(RELEASE_DIR)/collections TOS_API_URL=$$(cat $(RELEASE_SIM)/sim.url) \
	    ansible-playbook -i playbooks/inventory/demo.ini playbooks/site.yml -e tos_report_dir=$(RELEASE_DIR)/report \
	    | tee $(RELEASE_DIR)/demo.log; \
	  grep -q 'failed=0' $(RELEASE_DIR)/demo.log
	@test -s $(RELEASE_DIR)/report/index.html
	@echo "release-demo: the installed $(VERSION) ran the demo, report in $(RELEASE_DIR)/report/index.html"

release: changelog-release release-gates
	@$(MAKE) --no-print-directory release-demo
	@echo "release: $(RELEASE_TARBALL) ($(VERSION)) passed every gate; commit the changelog, tag $(VERSION)"
