#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kojiforge.koji contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: koji_export
short_description: Read a running Koji hub into the declarations of the object modules
version_added: 0.1.0
description:
  - Reads the external repos, channels, users, hosts, tags and build targets of a hub and
    returns them as the lists M(kojiforge.koji.koji_external_repo), M(kojiforge.koji.koji_channel),
    M(kojiforge.koji.koji_user), M(kojiforge.koji.koji_host), M(kojiforge.koji.koji_tag) and
    M(kojiforge.koji.koji_target) take (C(playbooks/export.yml) writes them as the files
    C(playbooks/config.yml) reads).
  - Read-only. Every read is anonymous; the module never logs in, so it needs no credentials.
    The whole hub is read in a few multicall requests.
  - Each declaration holds only what differs from what the modules do by default (a tag's
    C(locked) only when it is locked, a host's C(channels) only when they are not just
    C(default)...), in a stable order (objects by name, inheritance and external repos by
    priority, packages by name), so that exports of the same hub are identical.
  - Applying the declarations to the same hub changes nothing. Applied to a new hub, they
    recreate what the modules can declare; everything else is reported in RV(unsupported)
    and as warnings, never dropped silently.
author:
  - kojiforge.koji contributors (@kojiforge)
extends_documentation_fragment:
  - kojiforge.koji.connection
  - kojiforge.koji.names
attributes:
  check_mode:
    support: full
    description: The module only reads; it runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
options:
  objects:
    description:
      - The kinds of objects to export.
      - Package owners, parents, external repos and channels that exported objects name are
        not exported with them unless their own kind is asked for.
    type: list
    elements: str
    choices: [external_repos, channels, users, hosts, tags, targets]
    default: [external_repos, channels, users, hosts, tags, targets]
  names:
    description:
      - Only objects whose name matches one of these shell-style patterns (C(el9-*)), of
        every kind exported. Not set exports every object.
    type: list
    elements: str
  output:
    description:
      - V(declarations) returns the lists as data (RV(declarations)).
      - V(files) returns them as the text of the YAML files C(playbooks/export.yml) writes
        (RV(files)), made by the module itself in a stable layout. A site's tags are a
        megabyte of YAML, which Ansible's C(to_nice_yaml) takes many seconds to write; the
        module host needs no YAML library either.
    type: str
    choices: [declarations, files]
    default: declarations
notes:
  - Users are the hub's normal users; the users of hosts are exported as hosts, user groups
    are reported.
  - The name options (O(name_pattern)...) are the rules the modules will check the
    declarations against; a name they refuse is exported and reported.
  - What the declarations cannot express is reported, for example blocked tag extra,
    extra arches of package listings, comps group options and requirements, blocked comps
    groups and group packages, listings that repeat what the tag inherits (Koji stores no listing that changes
    nothing, so a new hub may not hold them), user groups, second Kerberos principals and
    permissions Koji does not create itself.
  - Not read, so neither exported nor reported - package owners set on a tag that only
    inherits the package (Koji keeps them apart from the tag's listing).
  - The hub is read over a few requests; when it changed meanwhile, the module warns (run it
    again for a consistent export).
seealso:
  - module: kojiforge.koji.koji_tag
  - module: kojiforge.koji.koji_target
'''

EXAMPLES = r'''
- name: Read every object of the hub
  kojiforge.koji.koji_export:
    server: https://koji.example.com/kojihub
    serverca: /etc/pki/koji/koji-ca.crt
  register: koji_export

- name: Write the tags as a file playbooks/config.yml reads (koji_tags_src)
  ansible.builtin.copy:
    content: "{{ {'koji_tags': koji_export.declarations.tags} | to_nice_yaml(indent=2, sort_keys=False) }}"
    dest: "{{ inventory_dir }}/koji/tags.yml"
    mode: "0644"
  delegate_to: localhost

- name: Only the el9 tags and targets
  kojiforge.koji.koji_export:
    koji: production
    objects: [tags, targets]
    names: ["el9-*"]
'''

RETURN = r'''
declarations:
  description:
    - The declarations, one list per kind asked for, in the list form of the kind's module
      (C(tags) for M(kojiforge.koji.koji_tag)'s O(kojiforge.koji.koji_tag#module:tags) and so
      on).
  returned: O(output=declarations)
  type: dict
  sample:
    tags:
      - name: el9-build
        arches: [x86_64, aarch64]
        inheritance:
          - parent: el9-base
            priority: 0
    targets:
      - name: el9-candidate
        build_tag: el9-build
        dest_tag: el9-candidate
files:
  description:
    - With O(output=files), the YAML files, by file name - C(<kind>.yml) holding a mapping
      with one key, C(koji_<kind>), whose value is the list (what O(kojiforge.koji.koji_tag#module:src)
      and C(koji_<kind>_src) of C(playbooks/config.yml) take), and C(unsupported.yml).
  returned: O(output=files)
  type: dict
  sample:
    targets.yml: "# Exported from Koji ...\nkoji_targets:\n  - name: el9-candidate\n ..."
unsupported:
  description:
    - What the declarations cannot express or the modules would not recreate on a new hub,
      one entry per problem, ordered by kind and name.
  returned: success
  type: list
  elements: dict
  sample:
    - type: tag
      name: el9-build
      problem: "package bash has extra arches x86_64: the modules cannot declare them"
counts:
  description: Number of objects exported, per kind.
  returned: success
  type: dict
  sample: {tags: 2700, targets: 600}
event:
  description:
    - The hub's last event when the export started and when it ended (C(start), C(end)). They
      differ when the hub changed meanwhile.
  returned: success
  type: dict
  sample: {start: 4711, end: 4711}
changes:
  description: Always empty; the module writes nothing.
  returned: always
  type: list
  elements: dict
  sample: []
requests:
  description: Number of HTTP requests the module sent to the hub.
  returned: always
  type: int
  sample: 4
errors:
  description: On a validation failure, every problem found (nothing was written).
  returned: failure
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kojiforge.koji.plugins.module_utils.koji_connection import (
    KojiConnection, connection_argument_spec,
)
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_errors import KojiModuleError
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_export import (
    KINDS, as_files, export_hub,
)
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_names import (
    NameRules, name_argument_spec,
)

# Each problem is a warning of its own up to this many; the rest are counted in one more.
MAX_WARNINGS = 20


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(name_argument_spec())
    argument_spec.update(
        objects=dict(type='list', elements='str', choices=list(KINDS), default=list(KINDS)),
        names=dict(type='list', elements='str'),
        output=dict(type='str', choices=['declarations', 'files'], default='declarations'),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    conn = None
    try:
        names = NameRules(module.params)
        conn = KojiConnection(module.params)
        declarations, unsupported, start, end = export_hub(
            conn, module.params['objects'], module.params['names'], names)
    except KojiModuleError as exc:
        extra = dict(exc.extra)
        extra.setdefault('changed', False)
        extra.setdefault('changes', [])
        if conn is not None:
            extra['requests'] = conn.requests
        module.fail_json(msg=exc.msg, **extra)
    for item in unsupported[:MAX_WARNINGS]:
        module.warn('%s %s: %s' % (item['type'].replace('_', ' '), item['name'], item['problem']))
    if len(unsupported) > MAX_WARNINGS:
        module.warn('%d more things the declarations cannot express (see "unsupported")'
                    % (len(unsupported) - MAX_WARNINGS))
    if start['id'] != end['id']:
        module.warn('the hub changed during the export (event %d, then %d): run it again for a '
                    'consistent export' % (start['id'], end['id']))
    result = dict(changed=False, changes=[], unsupported=unsupported,
                  counts=dict((kind, len(items)) for kind, items in declarations.items()),
                  event={'start': start['id'], 'end': end['id']}, requests=conn.requests)
    if module.params['output'] == 'files':
        result['files'] = as_files(declarations, unsupported)
    else:
        result['declarations'] = declarations
    module.exit_json(**result)


if __name__ == '__main__':
    main()
