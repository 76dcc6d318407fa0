# One entry point for developers and CI. `make help` lists the targets.
#
#   make test                    lint, sanity, unit tests, promtool rule tests and every molecule
#                                scenario (those that need the real Koji run when KOJI_SOURCE is
#                                set, and are reported skipped with the reason when it is not)
#   make demo KOJI_SOURCE=DIR    the local cluster on podman (see README.md)

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
export CONTAINERS_CONF ?= $(CURDIR)/testbed/containers.conf
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_FORCE_COLOR ?= false
export PY_COLORS ?= 0

# Sanity runs the plugins' compile and import tests on every Python the modules support that this
# machine has (pyenv keeps several here); the managed hosts' oldest is EL9's 3.9.
SANITY_PYTHONS ?= $(shell for v in 3.9 3.11 3.12; do \
	  p=$$(ls -d /root/.pyenv/versions/$$v.*/bin 2>/dev/null | head -n1); \
	  if command -v python$$v >/dev/null 2>&1 || [ -n "$$p" ]; then echo $$v; fi; done)
PYENV_BINS := $(shell ls -d /root/.pyenv/versions/3.9.*/bin /root/.pyenv/versions/3.12.*/bin 2>/dev/null | tr '\n' ':')

.PHONY: help
help: ## this list
	@grep -hE '^[a-z][a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

$(BIN)/.installed: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

.PHONY: venv
venv: $(BIN)/.installed ## the Python virtualenv with Ansible, molecule, pytest and koji

.PHONY: testbed
testbed: ## podman, runc and the locally built systemd images (idempotent)
	testbed/prepare.sh

.PHONY: collection-link
collection-link: ## expose this tree as ansible_collections/kojiforge/koji
	mkdir -p $(dir $(LINK))
	ln -sfn $(CURDIR) $(LINK)

.PHONY: lint
lint: venv collection-link ## ansible-lint, production profile
	ansible-lint --profile production

.PHONY: sanity
sanity: venv ## ansible-test sanity on a copy of the collection (ansible-test wants the real path)
	rm -rf $(SANITY_COPY) && mkdir -p $(SANITY_COPY)
	git ls-files -z --cached --others --exclude-standard | rsync -a --from0 --files-from=- ./ $(SANITY_COPY)/
	cd $(SANITY_COPY) && PATH="$(PYENV_BINS)$$PATH" ansible-test sanity --venv --color no \
	  $(addprefix --python ,$(SANITY_PYTHONS))

.PHONY: unit
unit: venv collection-link ## unit tests (modules, exporter), module integration tests on the fake hub, promtool
	pytest tests/unit tests/integration tests/promtool

.PHONY: scenarios
scenarios: venv collection-link testbed ## molecule scenarios (MOLECULE_SCENARIOS="a b" to choose)
	pytest -p no:cacheprovider -rs tests/scenarios

.PHONY: test
test: lint sanity collection-link testbed ## everything CI runs; one pytest summary at the end
	pytest -p no:cacheprovider -rs tests/unit tests/integration tests/promtool tests/scenarios

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
