# Event-Driven Ansible: the event source tos.cloud.events and the example rulebooks (extensions/eda/).
#   make eda-test    the source called directly with an asyncio queue against simulators (restarts, fail-over,
#                    kill mid-poll), then the three example rulebooks run by the real engine, ansible-rulebook,
#                    against simulators (the state changes, the rule fires, the playbook runs). ~90 s.
#   make eda-venv    ansible-rulebook in a venv of its own, build/venv-eda (its pins differ from the main venv's)
#   make eda-java    the Java runtime ansible-rulebook's rules engine needs: Debian's OpenJDK 17 when `java` is
#                    missing (as root, as on CI; bindep.txt lists it)

EDA_VENV   := $(BUILD)/venv-eda
EDA_PYTHON ?= $(PYTHON)

.PHONY: eda-test eda-venv eda-java

eda-java:
	@command -v java >/dev/null 2>&1 || { \
	  echo "installing openjdk-17-jre-headless (Debian) for ansible-rulebook"; \
	  $(APT_GET) update -qq && DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y -qq openjdk-17-jre-headless >/dev/null; }
	@java -version 2>&1 | head -1

$(EDA_VENV)/.stamp: requirements-eda.txt
	rm -rf $(EDA_VENV)
	$(EDA_PYTHON) -m venv $(EDA_VENV)
	$(EDA_VENV)/bin/python -m pip install -q --disable-pip-version-check -r requirements-eda.txt
	@touch $@

eda-venv: $(EDA_VENV)/.stamp

# two workers, tests spread one by one: the rulebook tests mostly wait on the engine and the simulator
eda-test: collection eda-java eda-venv test-state
	cd $(ROOT) && $(GUARD) python -m pytest -q -p no:cacheprovider -n 2 --dist load tests/eda

TEST_SUITES += eda-test
