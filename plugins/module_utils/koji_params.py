# -*- coding: utf-8 -*-
# Copyright: kojiforge.koji contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers for the parameters of the modules: the declarations a task gives (one object or a
list), architecture lists, repository URLs."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

from ansible_collections.kojiforge.koji.plugins.module_utils.koji_errors import KojiModuleError


def split_arches(value):
    """Arches from a list or a space/comma-separated string, as a list (order kept)."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        items = []
        for item in value:
            items.extend(str(item).replace(',', ' ').split())
        return items
    return str(value).replace(',', ' ').split()


def same_arches(current, wanted):
    """Arches are compared as sets: order is not a change."""
    return set(split_arches(current) or []) == set(wanted or [])


def normalize_url(url):
    """The hub stores external repo URLs with a trailing slash."""
    if url and not url.endswith('/'):
        return url + '/'
    return url


def objects_from_params(params, list_key, item_keys, name_key='name'):
    """A module takes one object (top-level options) or many (a list). Returns the list
    of object dicts."""
    # Copies, so that normalising a declaration does not change the module's params.
    # (A JSON round trip: the params are JSON data, and it is several times faster than
    # copy.deepcopy on a site-sized list.)
    if params.get('src') is not None:
        raise KojiModuleError(
            'src is read on the controller by the action plugin of the module, which did not run: '
            'run the module from a playbook task under its kojiforge.koji name')
    if params.get(list_key) is not None:
        return json.loads(json.dumps(params[list_key]))
    if params.get(name_key) is None:
        raise KojiModuleError('one of "%s" or "%s" is required' % (name_key, list_key))
    return json.loads(json.dumps([dict((key, params.get(key)) for key in item_keys)]))
