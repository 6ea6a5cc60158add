# Property tests (tests/properties/): invalid arguments drawn by hypothesis from every API module's real
# argument spec, run in-process against one simulator; no traceback, a message naming the option, no write.
#   make properties                          420 cases: a fixed seed and a rotating one (printed on failure)
#   make properties PROPERTY_SEED=N          replay the rotating pass of a failure
#   make properties TOS_PROPERTY_EXAMPLES=N  more cases per module and seed (default 15)
# Also: check mode against the real run over valid draws (test_check_predicts.py), the in-process and module-process
# paths compared (test_process_parity.py), a Python without requests, a progress read before the task registered.
# Three workers, one file (or one test class) each at a time, --dist loadscope: the parity test's setup alone takes
# about 70 s of CPU, and test_joined_operations.py's two classes (about 100 s and 60 s, mostly waiting on
# simulated operations) each get a worker of their own: about 110 s on 2 cores, against 165 s with two workers
# for 3 s more CPU (the third worker's start).

PROPERTY_SEED ?=
# one rotating seed for every worker (each would otherwise take its own from the clock)
PROPERTY_SEED_USED := $(or $(PROPERTY_SEED),$(shell echo $$(( $$(date +%s) % 100000 ))))

.PHONY: properties

properties: collection
	cd $(ROOT) && python -m pytest -q -p no:cacheprovider -n 3 --dist loadscope tests/properties \
	  --property-seed $(PROPERTY_SEED_USED)

TEST_SUITES += properties
