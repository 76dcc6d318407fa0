"""Run a kojiforge.koji module in this process, the way Ansible would run it, and get
its result dict back (for unit tests and the benchmark).

The collection must be importable as ``ansible_collections.kojiforge.koji``:
``collection_path()`` makes a symlink tree for this checkout and puts it on sys.path.
"""

import contextlib
import importlib
import io
import json
import os
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def collection_path():
    """Make ansible_collections/kojiforge/koji point at this checkout; returns the
    directory to put on sys.path / ANSIBLE_COLLECTIONS_PATH."""
    # The checkout's own build/collections (as `make collection-link` makes it), not a shared
    # temporary folder: two checkouts testing at once would re-point each other's link.
    base = os.environ.get('KOJIFORGE_COLLECTIONS_PATH') or os.path.join(REPO_ROOT, 'build', 'collections')
    link = os.path.join(base, 'ansible_collections', 'kojiforge', 'koji')
    if not os.path.islink(link) or os.path.realpath(link) != os.path.realpath(REPO_ROOT):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        tmp = link + '.tmp%d' % os.getpid()
        os.symlink(REPO_ROOT, tmp)
        os.replace(tmp, link)
    if base not in sys.path:
        sys.path.insert(0, base)
    return base


@contextlib.contextmanager
def _patch_module_args(args):
    """ansible.module_utils.testing.patch_module_args for ansible-core < 2.19, which lacks it."""
    from ansible.module_utils import basic
    old = basic._ANSIBLE_ARGS
    basic._ANSIBLE_ARGS = json.dumps({'ANSIBLE_MODULE_ARGS': args}).encode()
    try:
        yield
    finally:
        basic._ANSIBLE_ARGS = old


class ModuleResult(dict):
    """The module's JSON result; ``failed`` is True when it called fail_json."""


def run(module_name, args, check_mode=False, diff=False):
    """Run plugins/modules/<module_name>.py with ``args``; returns its result."""
    collection_path()
    try:
        from ansible.module_utils.testing import patch_module_args
    except ImportError:
        patch_module_args = _patch_module_args

    mod = importlib.import_module('ansible_collections.kojiforge.koji.plugins.modules.%s'
                                  % module_name)
    args = dict(args)
    args['_ansible_check_mode'] = check_mode
    args['_ansible_diff'] = diff
    out = io.StringIO()
    with patch_module_args(args), contextlib.redirect_stdout(out):
        try:
            mod.main()
        except SystemExit:
            pass
    text = out.getvalue()
    try:
        return ModuleResult(json.loads(text))
    except ValueError:
        raise AssertionError('module %s printed no JSON result: %r' % (module_name, text))
