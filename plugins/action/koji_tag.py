# -*- coding: utf-8 -*-
# Copyright: kojiforge.koji contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of the six object modules: O(src) read into the module's list option.

The one action plugin of the collection: meta/runtime.yml names it the action_plugin of
koji_channel, koji_external_repo, koji_host, koji_target and koji_user (it is named after
koji_tag because ansible-test's action-plugin-docs check wants a module of the same name). The
code is in plugin_utils/koji_objects_action.py."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.kojiforge.koji.plugins.plugin_utils.koji_objects_action import KojiObjectsAction


class ActionModule(KojiObjectsAction):
    pass
