# -*- coding: utf-8 -*-
# Copyright: kojiforge.koji contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Koji's rules for the names of the objects the modules create, checked for the whole
request before anything is written (the hub checks one name per call, so a bad name in
the middle of a request would otherwise fail after the objects before it were made)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.kojiforge.koji.plugins.module_utils.koji_errors import KojiModuleError

# The defaults of the hub's settings (hub.conf; kojihub/kojixmlrpc.py of Koji 1.35).
DEFAULT_NAME_PATTERN = r'^[A-Za-z0-9/_.+-]+$'       # RegexNameInternal
DEFAULT_USER_NAME_PATTERN = r'^[A-Za-z0-9/_.@-]+$'  # RegexUserName
DEFAULT_MAX_NAME_LENGTH = 256                       # MaxNameLengthInternal

# Name columns of the database shorter than that (schemas/schema.sql); tags, targets and
# external repos have TEXT names.
COLUMN_LENGTHS = {'user': 255, 'host': 128, 'channel': 128}

# The hub settings each kind of name must satisfy: a host is a user too, so its name must
# match both patterns; a user's Kerberos principal follows the user name pattern.
PATTERNS_OF = {
    'tag': ('name_pattern',),
    'target': ('name_pattern',),
    'external repo': ('name_pattern',),
    'channel': ('name_pattern',),
    'host': ('name_pattern', 'user_name_pattern'),
    'user': ('user_name_pattern',),
}
HUB_SETTING = {'name_pattern': 'RegexNameInternal', 'user_name_pattern': 'RegexUserName'}


def name_argument_spec():
    """The options every module shares (documented in the kojiforge.koji.names doc
    fragment)."""
    return dict(
        name_pattern=dict(type='str', default=DEFAULT_NAME_PATTERN),
        user_name_pattern=dict(type='str', default=DEFAULT_USER_NAME_PATTERN),
        max_name_length=dict(type='int', default=DEFAULT_MAX_NAME_LENGTH),
    )


class NameRules:
    """The hub's name rules as the module options give them."""

    def __init__(self, params):
        self.patterns = {}
        for option in HUB_SETTING:
            pattern = params.get(option)
            if pattern is None:
                pattern = name_argument_spec()[option]['default']
            try:
                # an empty pattern switches the check off, as an empty setting does on the hub
                self.patterns[option] = re.compile(pattern) if pattern else None
            except re.error as exc:
                raise KojiModuleError('%s %r is not a valid regular expression: %s'
                                      % (option, pattern, exc))
        self.max_length = params.get('max_name_length')
        if self.max_length is None:
            self.max_length = DEFAULT_MAX_NAME_LENGTH

    def check(self, v, kind, names):
        """Report every name of ``kind`` objects that the hub would refuse to ``v`` (a
        Validator)."""
        for name in names:
            self.check_value(v, kind, '%s %r' % (kind, name), name)

    def check_value(self, v, kind, where, value, what='name'):
        """Check one name (``what``: which of the object's names it is) of a ``kind``
        object described by ``where``."""
        if not value:
            v.error('%s: the %s is empty', where, what)
            return
        limits = [limit for limit in (self.max_length, COLUMN_LENGTHS.get(kind)) if limit]
        if limits and len(value) > min(limits):
            v.error('%s: the %s is %d characters long, the hub takes at most %d',
                    where, what, len(value), min(limits))
        for option in PATTERNS_OF[kind]:
            pattern = self.patterns[option]
            if pattern is not None and not pattern.match(value):
                v.error('%s: the %s %r does not match %s (the hub\'s %s; set %s if the hub '
                        'is configured otherwise)', where, what, value, pattern.pattern,
                        HUB_SETTING[option], option)
