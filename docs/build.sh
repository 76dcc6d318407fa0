#!/usr/bin/env bash
# The module and role reference, built from the modules' DOCUMENTATION blocks and the roles'
# meta/argument_specs.yml with antsibull-docs, and the checks of the hand-written guides.
# Fails on any documentation error, so CI (tests/unit/test_docs.py) catches it.
#
#   docs/build.sh                 -> build/docs/rst (reStructuredText) and build/docs/html
#   DOCS_BUILD_DIR=DIR docs/build.sh   another output directory (it is emptied first)
#
# Needs antsibull-docs (which brings Sphinx) in the virtualenv: `make venv`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${DOCS_BUILD_DIR:-$ROOT/build/docs}"
VENV="${VENV:-$ROOT/.venv}"
if [[ -x "$VENV/bin/antsibull-docs" ]]; then
  export PATH="$VENV/bin:$PATH"
fi
PYTHON="$(command -v python3)"

for tool in antsibull-docs sphinx-build; do
  command -v "$tool" >/dev/null || { echo "docs/build.sh: $tool not found; run make venv" >&2; exit 2; }
done

# The collection as ansible_collections/kojiforge/koji, the same link `make collection-link`
# makes. Only that path: a kojiforge.koji installed elsewhere must not be documented instead.
COLLECTIONS="$ROOT/build/collections"
LINK="$COLLECTIONS/ansible_collections/kojiforge/koji"
mkdir -p "$(dirname "$LINK")"
ln -sfn "$ROOT" "$LINK"
export ANSIBLE_COLLECTIONS_PATH="$COLLECTIONS"
export ANSIBLE_NOCOLOR=1

step() { printf '== %s\n' "$*"; }
started=$SECONDS

step "guides: the metrics table of docs/metrics.md matches metricdefs.py"
"$PYTHON" "$ROOT/docs/metrics_table.py" --check

step "reference: every module's RETURN holds the shared result keys of docs/module_returns.py"
"$PYTHON" "$ROOT/docs/module_returns.py" --check

step "guides: relative links between docs/*.md resolve"
"$PYTHON" "$ROOT/docs/check_links.py"

# antsibull-docs wants its output directory owned by us and writable by nobody else.
rm -rf "$OUT"
mkdir -p "$OUT"
chmod 0700 "$OUT"
mkdir -m 0700 "$OUT/rst"

step "reference: antsibull-docs collection (modules and roles) -> $OUT/rst"
antsibull-docs collection --use-current --fail-on-error --squash-hierarchy \
  --no-add-antsibull-docs-version --cleanup everything --dest-dir "$OUT/rst" kojiforge.koji

step "reference: antsibull-docs lint-collection-docs --plugin-docs"
# Semantic markup (O(), M(), seealso) must point at options and plugins that exist, here or in
# the collections we depend on. rstcheck is skipped: Sphinx below builds the same RST with -W.
antsibull-docs lint-collection-docs --plugin-docs --skip-rstcheck \
  --validate-collection-refs dependent --disallow-unknown-collection-refs "$LINK"

step "reference: Sphinx -> $OUT/html (warnings are errors)"
# Offline: no intersphinx inventories are fetched.
cat > "$OUT/conf.py" <<'EOF'
project = 'kojiforge.koji'
copyright = 'kojiforge.koji contributors'
title = html_short_title = 'kojiforge.koji reference'
extensions = ['sphinx_antsibull_ext']
pygments_style = 'ansible'
highlight_language = 'YAML+Jinja'
html_theme = 'alabaster'
html_show_sphinx = False
html_copy_source = False
html_use_index = False
default_role = 'any'
nitpicky = True
EOF
# The generated pages refer to three labels of Ansible's own docsite; without network access
# (intersphinx) they would be undefined. They point there instead.
cat > "$OUT/rst/ansible_docsite.rst" <<'EOF'
:orphan:

Ansible documentation
=====================

.. _common_return_values:

Common return values
--------------------

Every module also returns Ansible's common values (``changed``, ``failed``, ``msg``...): see
`Return Values <https://docs.ansible.com/projects/ansible/latest/reference_appendices/common_return_values.html>`_.

.. _ansible_configuration_settings:

Ansible configuration settings
------------------------------

See `Ansible Configuration Settings <https://docs.ansible.com/projects/ansible/latest/reference_appendices/config.html>`_.

.. _action_plugins:

Action plugins
--------------

The object modules share one action plugin (meta/runtime.yml routes their names to it), which reads ``src`` on the controller:
see `Action plugins <https://docs.ansible.com/projects/ansible/latest/plugins/action.html>`_.
EOF
sphinx-build -q -W --keep-going -b html -c "$OUT" "$OUT/rst" "$OUT/html"

step "done in $((SECONDS - started)) s: $OUT/html/index.html"
