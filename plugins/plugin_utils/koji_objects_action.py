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


class KojiObjectsAction(ActionBase):
    """Reads ``src`` (if given) into the module's list option, then runs the module."""

    LIST_KEY = None  # the module's list option: tags, targets, repos...

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super(KojiObjectsAction, self).run(tmp, task_vars)
        del tmp  # not used
        args = dict(self._task.args)
        src = args.pop('src', None)
        if src is not None:
            clashing = [key for key in (self.LIST_KEY, 'name') if args.get(key) not in (None, [], '')]
            if clashing:
                raise AnsibleActionFail('src and %s are mutually exclusive' % ' and '.join(clashing))
            try:
                path = self._find_needle('files', src)
            except AnsibleError as exc:
                raise AnsibleActionFail('src: %s' % to_text(exc))
            args[self.LIST_KEY] = load_objects(path, self.LIST_KEY)
        result.update(self._execute_module(module_args=args, task_vars=task_vars))
        return result


def action_for(list_key):
    """An ActionModule class for the module whose list option is ``list_key``."""
    return type('ActionModule', (KojiObjectsAction,), {'LIST_KEY': list_key})
