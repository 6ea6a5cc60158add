# Reliability and security suite (tests/reliability/): fault injection, simulator restarts, bad
# input, secrets in output and AWX artifacts, TLS and auth, concurrency. Every row is a real
# ansible-playbook (or ansible-runner) run against simulators the suite starts on 127.0.0.1.
#   make reliability                      run it and rewrite docs/reliability.md from the results (left
#                                         as it is when only the run's date would change)
#   make reliability RELIABILITY_TMP=DIR  where simulators, playbooks and artifacts go
# The rows wait on the network and the simulator's clock much more than they compute, so the
# suite runs more pytest-xdist workers than there are cores; --dist loadscope keeps each batch
# playbook (a test class) on one worker.

RELIABILITY_TMP ?= $(BUILD)/reliability
RELIABILITY_WORKERS ?= 4

.PHONY: reliability

reliability: collection test-state
	@rm -rf $(RELIABILITY_TMP)
	cd $(ROOT) && RELIABILITY_WORKDIR=$(RELIABILITY_TMP) $(GUARD) python -m pytest -q -p no:cacheprovider \
	  -n $(RELIABILITY_WORKERS) --dist loadscope tests/reliability --write-report

TEST_SUITES += reliability
