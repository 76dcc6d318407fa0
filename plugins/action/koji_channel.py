# -*- coding: utf-8 -*-
# Copyright: kojiforge.koji contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of kojiforge.koji.koji_channel: O(src) read into O(channels) (see plugin_utils/koji_objects_action.py)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.kojiforge.koji.plugins.plugin_utils.koji_objects_action import action_for

ActionModule = action_for('channels')
