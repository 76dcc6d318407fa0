# -*- coding: utf-8 -*-
# Copyright: kojiforge.koji contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    # The src option of the object modules, read on the controller by the one action plugin
    # meta/runtime.yml routes them to (plugins/plugin_utils/koji_objects_action.py).
    DOCUMENTATION = r'''
options:
  src:
    description:
      - A YAML or JSON file on the controller holding the objects to declare, instead of the
        module's list option. It holds a list of objects as that option takes them, or a
        mapping with one key whose value is that list (for example a vars file that defines
        only C(koji_tags)). A relative path is looked for in the C(files/) directories of the role
        and the playbook, as C(ansible.builtin.copy) does.
      - The file is read by the action plugin on the controller, with the plain YAML loader, as
        data. It is not templated and cannot be vault-encrypted. For a site of thousands of
        objects this is much faster than an inventory variable, which Ansible loads, templates
        and finalizes object by object for every task.
      - Mutually exclusive with the list option and with O(name).
    type: path
'''
