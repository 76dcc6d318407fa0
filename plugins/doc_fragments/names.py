# -*- coding: utf-8 -*-
# Copyright: kojiforge.koji contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    # The options of plugins/module_utils/koji_names.py name_argument_spec().
    DOCUMENTATION = r'''
options:
  name_pattern:
    description:
      - Regular expression every name of a tag, target, external repo, channel or host
        must match, as the hub's C(RegexNameInternal) setting (C(hub.conf)). The default is
        Koji's default.
      - Names are checked for the whole request before anything is written. Set this only
        when the hub is configured with another pattern; an empty string turns the check off
        (as an empty setting does on the hub).
    type: str
    default: '^[A-Za-z0-9/_.+-]+$'
  user_name_pattern:
    description:
      - Regular expression every user name, user Kerberos principal and host name must
        match, as the hub's C(RegexUserName) setting. The default is Koji's default.
    type: str
    default: '^[A-Za-z0-9/_.@-]+$'
  max_name_length:
    description:
      - Longest name the hub takes, its C(MaxNameLengthInternal) setting (Koji's default).
        C(0) for no limit; the database's own limits (128 characters for hosts and channels,
        255 for users) are always checked.
    type: int
    default: 256
'''
