#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kojiforge.koji contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: koji_external_repo
short_description: Declare Koji external repos, by URL or by a mirrorlist resolved where the module runs
version_added: 0.1.0
description:
  - Creates, updates and deletes Koji external repos (the mirrors tags take packages from).
  - A repo is given either by O(url) or by O(mirrorlist). A mirrorlist (or metalink) is
    fetched on the host the module runs on, a mirror is picked and turned back into an
    external repo URL with C($arch) in place of the architecture. So a cloud provider's
    internal mirror, which mirror servers hand out by source address, is used without
    being written down anywhere.
  - A later run keeps the current URL as long as the mirrorlist still lists it, and
    moves to the first mirror listed only when it does not.
  - Takes one repo (O(name)) or many (O(repos)); many are read and written in a few
    multicall requests. A request with a malformed URL or an unusable mirrorlist
    writes nothing.
  - The hub stores URLs with a trailing slash; URLs are compared that way.
author:
  - kojiforge.koji contributors (@kojiforge)
extends_documentation_fragment:
  - kojiforge.koji.connection
  - kojiforge.koji.names
  - kojiforge.koji.objects_src
attributes:
  check_mode:
    support: full
    description: Decided from reads only (the mirrorlist is fetched, nothing is written).
  diff_mode:
    support: full
    description: Returns the before and after URL of every repo that changes.
options:
  name:
    description:
      - Name of the external repo. Mutually exclusive with O(repos).
    type: str
  url:
    description:
      - URL of the repo, with C($arch) where the architecture goes (Koji's variable,
        not C($basearch)).
      - Mutually exclusive with O(mirrorlist).
    type: str
  mirrorlist:
    description:
      - URL of a yum/dnf mirrorlist or metalink; C($arch) and C($basearch) in it are
        replaced by O(arch) to fetch it.
      - Mutually exclusive with O(url).
    type: str
  arch:
    description:
      - Architecture used to fetch the mirrorlist; the same path segment of the chosen
        mirror URL is turned back into C($arch).
    type: str
    default: x86_64
  state:
    description:
      - V(present) creates or updates the repo, V(absent) deletes it (and detaches it
        from every tag).
    type: str
    choices: [present, absent]
    default: present
  repos:
    description:
      - Many repos at once, each a dict with O(name) and O(url) or O(mirrorlist).
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the external repo.
        type: str
        required: true
      url:
        description: URL of the repo, with C($arch).
        type: str
      mirrorlist:
        description: URL of a mirrorlist or metalink to pick the URL from.
        type: str
      arch:
        description: Architecture used to fetch the mirrorlist.
        type: str
        default: x86_64
      state:
        description: V(present) or V(absent).
        type: str
        choices: [present, absent]
        default: present
  validate_certs:
    description:
      - Whether to verify the TLS certificate of the mirrorlist server.
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for the mirrorlist server, and for the hub's answer to one request
        (see the connection options).
    type: int
    default: 120
seealso:
  - module: kojiforge.koji.koji_tag
'''

EXAMPLES = r'''
- name: An external repo with a fixed URL
  kojiforge.koji.koji_external_repo:
    koji: production
    name: almalinux9-baseos
    url: https://repo.almalinux.org/almalinux/9/BaseOS/$arch/os/

- name: An external repo that follows the mirror the cloud provider hands out
  kojiforge.koji.koji_external_repo:
    koji: production
    name: almalinux9-appstream
    mirrorlist: https://mirrors.almalinux.org/mirrorlist/9/appstream

- name: Many repos at once
  kojiforge.koji.koji_external_repo:
    koji: production
    repos:
      - name: epel9
        mirrorlist: https://mirrors.fedoraproject.org/metalink?repo=epel-9&arch=$basearch
      - name: centos-stream9-crb
        url: https://mirror.stream.centos.org/9-stream/CRB/$arch/os/
      - name: obsolete-repo
        state: absent
'''

RETURN = r'''
changes:
  description: What changed (or would change in check mode), per repo.
  returned: always
  type: list
  elements: dict
  sample:
    - type: external_repo
      name: almalinux9-appstream
      action: update
      changes: ["set url to https://mirror.example.net/almalinux/9/AppStream/$arch/os/"]
urls:
  description: The URL each present repo has after the run (resolved mirrorlists included).
  returned: always
  type: dict
  sample: {almalinux9-appstream: "https://mirror.example.net/almalinux/9/AppStream/$arch/os/"}
requests:
  description: Number of HTTP requests the module sent to the hub.
  returned: always
  type: int
  sample: 4
applied:
  description: On a hub refusal, the calls that were made before it.
  returned: failure
  type: list
  elements: dict
refused:
  description: On a hub refusal, the refused calls and the hub's error.
  returned: failure
  type: list
  elements: dict
not_applied:
  description: On a hub refusal, the calls that were not sent.
  returned: failure
  type: list
  elements: dict
errors:
  description: On a validation failure, every problem found (nothing was written).
  returned: failure
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kojiforge.koji.plugins.module_utils.koji_connection import (
    connection_argument_spec,
)
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_module_runner import run_module
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_names import name_argument_spec
from ansible_collections.kojiforge.koji.plugins.module_utils.planners.external_repo import plan_repos


def repo_spec(name_required):
    return dict(
        name=dict(type='str', required=name_required),
        url=dict(type='str'),
        mirrorlist=dict(type='str'),
        arch=dict(type='str', default='x86_64'),
        state=dict(type='str', default='present', choices=['present', 'absent']),
    )


REPO_KEYS = tuple(repo_spec(False))


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(name_argument_spec())
    argument_spec['src'] = dict(type='path')
    argument_spec.update(repo_spec(False))
    argument_spec['repos'] = dict(type='list', elements='dict', options=repo_spec(True))
    argument_spec['validate_certs'] = dict(type='bool', default=True)
    module = AnsibleModule(
        argument_spec=argument_spec,
        mutually_exclusive=[('name', 'repos'), ('url', 'mirrorlist')],
        required_one_of=[('name', 'repos')],
        supports_check_mode=True,
    )
    run_module(module, 'repos', REPO_KEYS, plan_repos)


if __name__ == '__main__':
    main()
