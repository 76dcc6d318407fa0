# -*- coding: utf-8 -*-
# Copyright: kojiforge.koji contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``invocation`` the result of a module carries, without the long lists of a site."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

# Lists longer than this are not echoed back in the result's ``invocation`` (see
# compact_invocation).
INVOCATION_MAX_ITEMS = 20


def compact_invocation(params):
    """The ``invocation`` a result carries, with long lists replaced by their length.

    AnsibleModule echoes every parameter back by default: a site's 2700 tags would travel
    back to the controller, be decoded, copied and tagged there, only to be dropped (they are
    shown with -vvv alone). The caller has them in its variables anyway."""
    args = {}
    for key, value in params.items():
        if isinstance(value, list) and len(value) > INVOCATION_MAX_ITEMS:
            value = '(%d items, not echoed)' % len(value)
        args[key] = value
    return {'module_args': args}
