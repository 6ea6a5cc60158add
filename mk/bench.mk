# The benchmark (bench/, see bench/README.md and docs/performance.md). Not part of make test, except the
# quick variant, which checks request counts and never a time.
#   make bench         every scenario, repeated, in under ~13 min (BENCH_BUDGET seconds); prints the Markdown
#                      table and writes it, with the raw numbers, to bench/results/latest.md and latest.json
#   make bench-quick   scenarios 1 and 2 once: every module sends exactly its minimum of requests on a no-op
#                      run and nothing mutating (bench/minimum_requests.yml); fails otherwise
# Timing is plain repeated subprocess timing in Python (interleaved runs, each checked before it counts), so
# nothing needs installing beyond the venv.

BENCH_WORKDIR ?= $(BUILD)/bench
BENCH_ARGS ?=

.PHONY: bench bench-quick bench-sshd

# scenario 5 measures host_facts over SSH against an sshd it starts on 127.0.0.1 (bench/scenarios/facts.py): Debian's
# openssh-server, installed when missing (as root, as on CI); without it the SSH rows would be left out of the table
bench-sshd:
	@test -x /usr/sbin/sshd || { \
	  echo "installing openssh-server (Debian package) for the benchmark's host_facts over SSH"; \
	  $(APT_GET) update -qq && DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y -qq openssh-server >/dev/null; }

bench: collection bench-sshd
	cd $(ROOT) && python -m bench --workdir $(BENCH_WORKDIR) $(BENCH_ARGS)

bench-quick: collection
	cd $(ROOT) && python -m bench --quick --workdir $(BENCH_WORKDIR)-quick $(BENCH_ARGS)

TEST_SUITES += bench-quick
