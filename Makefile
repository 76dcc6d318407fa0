# One entry point for developers and CI. `make help` lists the targets.
#
#   make test    lint, sanity, the version matrix (sanity and unit tests on the oldest ansible-core
#                claimed), unit tests, promtool rule tests, the koji_ca and hub scenarios,
#                and the real Koji lane: the local cluster deployed by site.yml, run again with no
#                change, the module integration suite, the exporter, a scale-out and a createrepo
#                task against it, then torn down (what CI runs, .ci/run)
#   make demo    the local cluster on podman (see README.md)
# The Koji source is what testbed/koji-source.sh finds: KOJI_SOURCE, else the release archive of
# KOJI_VERSION in ../shared/koji-source/, else a download.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV ?= $(CURDIR)/.venv
BIN := $(VENV)/bin
BUILD := $(CURDIR)/build
COLLECTIONS := $(BUILD)/collections
LINK := $(COLLECTIONS)/ansible_collections/kojiforge/koji
SANITY_COPY := $(BUILD)/sanity/ansible_collections/kojiforge/koji

export PATH := $(BIN):$(PATH)
# podman's settings for the test bed (testbed/containers.conf), unless CONTAINERS_CONF names
# an existing file of the user's; a stale value (a removed checkout's) is replaced, with a note.
ifneq ($(CONTAINERS_CONF),)
ifeq ($(wildcard $(CONTAINERS_CONF)),)
$(warning CONTAINERS_CONF=$(CONTAINERS_CONF) does not exist: using testbed/containers.conf)
override CONTAINERS_CONF := $(CURDIR)/testbed/containers.conf
endif
endif
CONTAINERS_CONF ?= $(CURDIR)/testbed/containers.conf
export CONTAINERS_CONF
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
# The test bed's podman connection with pipelining (inventories/local, the molecule scenarios).
export ANSIBLE_CONNECTION_PLUGINS := $(CURDIR)/testbed/connection_plugins
export ANSIBLE_FORCE_COLOR ?= false
export PY_COLORS ?= 0

# Sanity also runs the modules' compile and import tests on the managed hosts' oldest Python,
# EL9's 3.9, where this machine has it (pyenv keeps it here).
PY39_BIN := $(firstword $(wildcard /root/.pyenv/versions/3.9.*/bin))

# Each CI stage prints when it ends and how long the run has taken so far.
T0 := $(shell date +%s)
stage = @printf '[stage] %s done: %s s since make started\n' '$(1)' "$$(( $$(date +%s) - $(T0) ))"

# pytest-xdist workers: one per core, from 2 to 4 (PYTEST_WORKERS= runs pytest in one process).
# In make test the scenarios and the real Koji lane are one xdist group (tests/conftest.py): one
# worker runs them, in order, while the others take the unit tests; they are named first on the
# command line so that their worker starts on them at once.
PYTEST_WORKERS ?= -n $(shell n=$$(nproc); echo $$(( n > 4 ? 4 : (n < 2 ? 2 : n) )))

.PHONY: help
help: ## this list
	@grep -hE '^[a-z][a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

# Host packages come first: pip builds gssapi (koji needs it) against libkrb5-dev's krb5-config.
$(BIN)/.installed: requirements-dev.txt
	testbed/prepare.sh --packages
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

.PHONY: venv
venv: $(BIN)/.installed ## the Python virtualenv with Ansible, molecule, pytest and koji

.PHONY: testbed
testbed: ## podman, runc and the locally built systemd images (idempotent)
	testbed/prepare.sh
	$(call stage,testbed)

.PHONY: collection-link
collection-link: ## expose this tree as ansible_collections/kojiforge/koji
	mkdir -p $(dir $(LINK))
	ln -sfn $(CURDIR) $(LINK)

.PHONY: lint
lint: venv collection-link ## ansible-lint, production profile
	ansible-lint --profile production
	$(call stage,lint)

# $(call sanity_copy,DIR): a git-tracked copy of the tree in DIR/ansible_collections/kojiforge/koji,
# as ansible-test requires. $(call offline_pip,VENV): ansible-test downloads a pip bootstrap
# script from a host we cannot reach; give the ansible-test of VENV ours, under the name it asks for.
define sanity_copy
	rm -rf $(1) && mkdir -p $(1)
	git ls-files -z --cached --others --exclude-standard | rsync -a --from0 --files-from=- ./ $(1)/
	cd $(1) && git init -q && git add -A
endef
define offline_pip
	mkdir -p ~/.ansible/test/cache
	cp tests/sanity/offline_get_pip.py ~/.ansible/test/cache/get_pip_$$(grep -oP "pip='\K[0-9.]+" \
	  $(1)/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py | head -n1 | tr . _).py
endef

.PHONY: sanity
sanity: venv ## ansible-test sanity, on a git-tracked copy under ansible_collections/ (as it requires)
	$(call sanity_copy,$(SANITY_COPY))
	$(call offline_pip,$(VENV))
	cd $(SANITY_COPY) && ansible-test sanity --requirements --color no --python 3.11
ifneq ($(PY39_BIN),)
	cd $(SANITY_COPY) && PATH="$$PATH:$(PY39_BIN)" ansible-test sanity --requirements --color no \
	  --python 3.9 --test compile --test import
endif
	$(call stage,sanity)

.PHONY: unit
unit: venv collection-link ## unit tests (modules, exporter), module integration tests on the fake hub, promtool, Alertmanager delivery
	pytest -p no:cacheprovider $(PYTEST_WORKERS) tests/unit tests/integration tests/promtool tests/alertmanager

# The version matrix. meta/runtime.yml claims only the ansible-core versions tested here: the
# newest is the .venv's (the `ansible` package requirements-dev.txt pins brings it); `make matrix`
# runs sanity (Python 3.11) and the unit and fake-hub tests again on the oldest claimed, read from
# requires_ansible, in build/venv-core-X.Y. That venv gets the `ansible` package of that core
# (ansible N ships ansible-core 2.(N+7)): the community collections the roles use, at the
# versions users of that core have, rather than the .venv's newer ones (community.crypto 3
# needs ansible-core 2.17). The test tools come with the pins requirements-dev.txt gives them.
MATRIX_CORE := $(shell grep -oP '^requires_ansible: ">=\K[0-9]+\.[0-9]+' meta/runtime.yml)
MATRIX_ANSIBLE := $(shell echo $$(( $(lastword $(subst ., ,$(MATRIX_CORE))) - 7 )))
# Named by the core version: a new requires_ansible gets a venv of its own, other edits of
# runtime.yml none.
MATRIX_VENV := $(BUILD)/venv-core-$(MATRIX_CORE)
MATRIX_SANITY_COPY := $(BUILD)/sanity-core-$(MATRIX_CORE)/ansible_collections/kojiforge/koji

$(MATRIX_VENV)/bin/.installed: requirements-dev.txt
	rm -rf $(MATRIX_VENV)
	$(PYTHON) -m venv $(MATRIX_VENV)
	$(MATRIX_VENV)/bin/pip install --quiet --upgrade pip
	$(MATRIX_VENV)/bin/pip install --quiet "ansible-core==$(MATRIX_CORE).*" "ansible==$(MATRIX_ANSIBLE).*" \
	  $$(grep -E '^(pytest|pytest-testinfra|pytest-xdist|koji|prometheus_client|flit_core|grafana-foundation-sdk)[<>=]' requirements-dev.txt) \
	  $$(grep -E '^-e ' requirements-dev.txt)
	touch $@

.PHONY: matrix
matrix: venv collection-link $(MATRIX_VENV)/bin/.installed ## sanity and unit tests on the oldest ansible-core claimed (build/venv-core-X.Y)
	$(call sanity_copy,$(MATRIX_SANITY_COPY))
	$(call offline_pip,$(MATRIX_VENV))
	cd $(MATRIX_SANITY_COPY) && PATH="$(MATRIX_VENV)/bin:$$PATH" ansible-test sanity --requirements \
	  --color no --python 3.11
	PATH="$(MATRIX_VENV)/bin:$$PATH" pytest -p no:cacheprovider $(PYTEST_WORKERS) tests/unit tests/integration
	$(call stage,matrix ansible-core $(MATRIX_CORE))

# The scenarios that fit CI's time next to the real Koji lane; cluster, lifecycle, adoption, hubs
# and kerberos run by hand (make cluster, make lifecycle, make adoption, make hubs, make kerberos) before an issue that touches roles or
# playbooks is resolved.
CI_SCENARIOS ?= koji_ca hub

.PHONY: scenarios
scenarios: venv collection-link testbed ## molecule scenarios (MOLECULE_SCENARIOS="a b" to choose; all by default)
	pytest -p no:cacheprovider -rs tests/scenarios

.PHONY: cluster
cluster: venv collection-link testbed ## the cluster scenario (hub and 3 builders, scale-out, monitoring)
	MOLECULE_SCENARIOS=cluster pytest -p no:cacheprovider -rs -s tests/scenarios

.PHONY: lifecycle
lifecycle: venv collection-link testbed ## the lifecycle scenario (1.34.3 -> 1.35.3 upgrade, backup, restore)
	MOLECULE_SCENARIOS=lifecycle pytest -p no:cacheprovider -rs -s tests/scenarios

.PHONY: adoption
adoption: venv collection-link testbed ## the adoption scenario (the site's CA and database, a hand-disabled builder: none overwritten)
	MOLECULE_SCENARIOS=adoption pytest -p no:cacheprovider -rs -s tests/scenarios

.PHONY: hubs
hubs: venv collection-link testbed ## the hubs scenario (2 hubs, 2 web hosts, HAProxy; one hub stopped at a time)
	MOLECULE_SCENARIOS=hubs pytest -p no:cacheprovider -rs -s tests/scenarios

.PHONY: kerberos
kerberos: venv collection-link testbed ## the kerberos scenario (a KDC; people, a builder and kojira log in with Kerberos beside certificates)
	MOLECULE_SCENARIOS=kerberos pytest -p no:cacheprovider -rs -s tests/scenarios

.PHONY: test
test: testbed lint sanity matrix collection-link ## everything CI runs; one pytest summary at the end
	MOLECULE_SCENARIOS="$(CI_SCENARIOS)" pytest -p no:cacheprovider -rs --durations=15 --real-koji \
	  $(PYTEST_WORKERS) --dist loadgroup \
	  tests/scenarios tests/real tests/integration tests/unit tests/promtool tests/alertmanager
	$(call stage,pytest)

.PHONY: demo
demo: venv collection-link ## the local Koji cluster on podman (KOJI_SOURCE=dir or archive)
	testbed/demo.sh up

.PHONY: demo-down
demo-down: venv ## remove the local cluster
	testbed/demo.sh down

.PHONY: docs
docs: venv collection-link ## the module and role reference (build/docs/html), failing on any docs error
	docs/build.sh

.PHONY: build
build: venv ## the collection artifact, installed and resolved by FQCN as a check
	rm -rf $(BUILD)/artifact && mkdir -p $(BUILD)/artifact
	ansible-galaxy collection build --output-path $(BUILD)/artifact .
	ansible-galaxy collection install --force -p $(BUILD)/artifact/installed $(BUILD)/artifact/kojiforge-koji-*.tar.gz
	ANSIBLE_COLLECTIONS_PATH=$(BUILD)/artifact/installed ansible-doc -t module kojiforge.koji.koji_tag >/dev/null
	ANSIBLE_COLLECTIONS_PATH=$(BUILD)/artifact/installed ansible-doc -t role -l kojiforge.koji | grep -q koji_ca

.PHONY: changelog
changelog: venv ## release notes from changelogs/fragments
	antsibull-changelog lint
	antsibull-changelog release

.PHONY: clean
clean: ## remove build output (not the virtualenv or the images)
	rm -rf $(BUILD)

# The module integration suite against the demo cluster's real hub (`make demo` first). As in
# production, the modules run on the hub host (podman connection) with the admin certificate
# that lives there; the tests' own anonymous reads go through `podman exec -i` on that host.
# BENCH=1 then runs the site-scale benchmark the same way, on objects named bench-* that stay
# (CERN's scale: 2,700 tags, 16,200 package listings), and the export of that hub and its
# files applied back (tests/benchmarks/export/bench_export.py --inventory).
.PHONY: integration-real
integration-real: venv collection-link ## module integration tests on the demo cluster's real hub (BENCH=1: and the benchmark)
	KOJI_TEST_HOST=hub.koji.test KOJI_TEST_INVENTORY=inventories/local KOJI_TEST_PROFILE=koji \
	  KOJI_TEST_READ_VIA="podman exec -i hub.koji.test" \
	  pytest -p no:cacheprovider -v --real-koji -k real tests/integration/modules
	if [ -n "$${BENCH:-}" ]; then \
	  python tests/benchmarks/modules/bench_modules.py --host hub.koji.test \
	    --inventory inventories/local --koji koji --read-via "podman exec -i hub.koji.test" \
	    --access-log-via "podman exec hub.koji.test" --prefix bench- --packages-per-tag 6 && \
	  python tests/benchmarks/export/bench_export.py --inventory inventories/local --koji koji \
	    --read-via "podman exec -i hub.koji.test" --access-log-via "podman exec hub.koji.test"; fi
