# -*- coding: utf-8 -*-
# Copyright: kojiforge.koji contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""YAML text of the exported declarations, written by the module itself (koji_export's
``output: files``).

A site's tags are a megabyte of YAML: Ansible's ``to_nice_yaml`` (a pure Python dumper, run
through the templating of the whole result) takes seconds per megabyte, and the module host
may lack PyYAML. The declarations are JSON data (dicts, lists, strings, numbers, booleans,
null), for which a block-style YAML writer is short: plain scalars where YAML reads them back
as the same string, JSON's double-quoted strings (valid YAML) everywhere else. Keys keep the
order they have, lists are indented under their key, one item per line, so that a change
shows as few lines of a diff.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import math
import re

# Strings written without quotes: they cannot be read back as anything but themselves (no
# leading digit, dash, dot or indicator; no ": " or " #", no ":" at the end, single spaces
# between words; not a YAML 1.1 boolean or null). URLs stay plain.
PLAIN = re.compile(r'^[A-Za-z_/$][A-Za-z0-9_./$@+:=%,#-]*(?: [A-Za-z0-9_./$@+:=%,()-]+)*$')
RESERVED = frozenset(('true', 'false', 'yes', 'no', 'on', 'off', 'y', 'n', 'null'))


def scalar(value):
    if value is None:
        return 'null'
    if value is True:
        return 'true'
    if value is False:
        return 'false'
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return '.nan'
        if value in (float('inf'), float('-inf')):
            return '.inf' if value > 0 else '-.inf'
        text = repr(value)
        # YAML 1.1 (PyYAML) reads a float only with a dot
        return text if '.' in text else text.replace('e', '.0e')
    value = str(value)
    if (PLAIN.match(value) and value.lower() not in RESERVED and ': ' not in value
            and not value.endswith(':')):
        return value
    # JSON's escapes are YAML's; characters YAML would take as line breaks or refuse
    # (U+2028, U+0085, controls) are escaped by making the whole string ASCII
    return json.dumps(value, ensure_ascii=not value.isprintable())


def _inline(value):
    if isinstance(value, dict):
        return '{}'
    if isinstance(value, list):
        return '[]'
    return scalar(value)


def _block(value):
    return isinstance(value, (dict, list)) and bool(value)


def _node(value, indent, lines):
    pad = ' ' * indent
    if isinstance(value, dict):
        for key, item in value.items():
            if _block(item):
                lines.append('%s%s:' % (pad, scalar(key)))
                _node(item, indent + 2, lines)
            else:
                lines.append('%s%s: %s' % (pad, scalar(key), _inline(item)))
        return
    for item in value:
        if _block(item):
            nested = []
            _node(item, indent + 2, nested)
            lines.append('%s- %s' % (pad, nested[0][indent + 2:]))
            lines.extend(nested[1:])
        else:
            lines.append('%s- %s' % (pad, _inline(item)))


def dump(data, header=''):
    """The YAML text of ``data`` (a dict), after ``header`` (comment lines)."""
    lines = []
    _node(data, 0, lines)
    return header + '\n'.join(lines) + '\n'
