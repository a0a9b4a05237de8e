# mpchat: `make demo` builds and shows it; `make test` runs everything. Both install what is missing.
.PHONY: setup build test test-rust test-wasm test-js compat demo bench profile instructions fuzz clean

setup:
	@bash scripts/setup.sh

build: setup
	@bash scripts/build.sh

test: build test-rust test-wasm test-js

# The storage fault sweeps (one run per storage call, for each fault model) run in release: seconds
# there, minutes in a debug build.
test-rust:
	cargo test
	cargo test --release --test store_faults -- --include-ignored

test-wasm:
	wasm-pack test --node

# The whole JS suite against the newest easemob-websdk, then the end-to-end suites against the oldest (3.6.3).
test-js:
	node --test tests/js/
	EASEMOB_SDK=3.6.3 node --test tests/js/loopback.test.js tests/js/loopback-features.test.js tests/js/e2e.test.js tests/js/e2e-features.test.js tests/js/e2e-edits-reactions.test.js tests/js/e2e-history.test.js tests/js/e2e-directory.test.js tests/js/e2e-media.test.js

# The end-to-end suites against every easemob-websdk release in loopback/sdks.js, and a table of the results.
compat: build
	node scripts/compat.js

demo: build
	node scripts/demo.js

bench: build
	node bench/run.js

# Where one scenario's time goes on the iPhone's engine (bench/profile.js): cold (an app's start: createChat,
# the list and a page, once), open, list, again (the list shown again), page or receive;
# SELF=1 lists functions by their own time, TREE=regex adds the callees of the functions it matches,
# CALLERS=regex their callers.
SCENARIO ?= open
profile: build
	node bench/profile.js $(SCENARIO)$(if $(SELF), --self)$(if $(TREE), --tree '$(TREE)')$(if $(CALLERS), --callers '$(CALLERS)')

# Host instructions of a receive and of the cold open in jsc, counted by valgrind, for each package folder in
# PACKAGES (default dist): two builds compared by a change of 1% (bench/instructions.js).
instructions: build
	node bench/instructions.js $(PACKAGES)

# Each fuzz target for SECONDS (default 600), two at a time; not part of CI.
SECONDS ?= 600
fuzz:
	bash scripts/fuzz.sh $(SECONDS)

clean:
	rm -rf dist demo-out target/mpchat-build target/mpchat-named-build target/mpchat-named target/named
