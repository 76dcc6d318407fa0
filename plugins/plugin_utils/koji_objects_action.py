# -*- coding: utf-8 -*-
# Copyright: kojiforge.koji contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller side of the object modules (koji_tag, koji_target...): ``src``.

A site's declarations can be thousands of objects. Given as an inventory variable, Ansible
loads them with its own YAML loader (every value tagged with its origin) and templates and
finalizes the whole structure again for each task: seconds per thousand objects before the
module starts. With ``src`` the action plugin reads the list from a YAML or JSON file on the
controller with the plain (C) YAML loader, as data (no templating, no vault), and hands it to
the module as its list option. Without ``src`` the module runs exactly as it would without
this plugin.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

import yaml

try:
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # PyYAML without libyaml
    from yaml import SafeLoader as _SafeLoader

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase


def load_objects(path, list_key):
    """The list of objects in ``path``: a list of mappings, or a mapping with one key whose
    value is that list (a vars file that defines only, say, ``koji_tags``)."""
    try:
        with open(path, 'rb') as handle:
            text = handle.read()
    except (IOError, OSError) as exc:
        raise AnsibleActionFail('src: cannot read %s: %s' % (path, to_text(exc)))
    try:
        if path.endswith('.json'):
            data = json.loads(to_text(text))
        else:
            data = yaml.load(text, Loader=_SafeLoader)  # nosec: a safe loader
    except (ValueError, yaml.YAMLError) as exc:
        raise AnsibleActionFail('src: %s is not valid %s: %s'
                                % (path, 'JSON' if path.endswith('.json') else 'YAML', to_text(exc)))
    if isinstance(data, dict):
        if len(data) != 1:
            raise AnsibleActionFail(
                'src: %s holds a mapping with %d keys (%s); it must hold the list of objects for '
                '"%s", or a mapping with one key whose value is that list'
                % (path, len(data), ', '.join(sorted(str(key) for key in data)[:5]), list_key))
        data = list(data.values())[0]
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise AnsibleActionFail(
            'src: %s must hold a list of objects (mappings) for "%s", or a mapping with one key '
            'whose value is that list' % (path, list_key))
    return data


# The list option of each object module, which src fills.
LIST_KEYS = {
    'koji_channel': 'channels',
    'koji_external_repo': 'repos',
    'koji_host': 'hosts',
    'koji_tag': 'tags',
    'koji_target': 'targets',
    'koji_user': 'users',
}


def list_key_of(action):
    """The list option of the module a task runs (``action``: its name, short or qualified)."""
    return LIST_KEYS[action.rpartition('.')[2]]


class KojiObjectsAction(ActionBase):
    """Reads ``src`` (if given) into the module's list option, then runs the module.

    One action plugin serves the six object modules: meta/runtime.yml routes their action
    names to it, and the module the task names says which list option ``src`` fills."""

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super(KojiObjectsAction, self).run(tmp, task_vars)
        del tmp  # not used
        args = dict(self._task.args)
        src = args.pop('src', None)
        if src is not None:
            # the module's name as the task gives it (resolved_action may name this plugin)
            list_key = list_key_of(self._task.action)
            clashing = [key for key in (list_key, 'name') if args.get(key) not in (None, [], '')]
            if clashing:
                raise AnsibleActionFail('src and %s are mutually exclusive' % ' and '.join(clashing))
            try:
                path = self._find_needle('files', src)
            except AnsibleError as exc:
                raise AnsibleActionFail('src: %s' % to_text(exc))
            args[list_key] = load_objects(path, list_key)
        result.update(self._execute_module(module_args=args, task_vars=task_vars))
        return result
