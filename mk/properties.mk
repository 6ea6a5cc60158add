# Property tests (tests/properties/): invalid arguments drawn by hypothesis from every API module's real
# argument spec, run in-process against one simulator; no traceback, a message naming the option, no write.
#   make properties                          420 cases: a fixed seed and a rotating one (printed on failure)
#   make properties PROPERTY_SEED=N          replay the rotating pass of a failure
#   make properties TOS_PROPERTY_EXAMPLES=N  more cases per module and seed (default 15)
# Cost: about 20 s on the 2-core machine.

PROPERTY_SEED ?=

.PHONY: properties

properties: collection
	cd $(ROOT) && python -m pytest -q -p no:cacheprovider tests/properties $(if $(PROPERTY_SEED),--property-seed $(PROPERTY_SEED))

TEST_SUITES += properties
