#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kojiforge.koji contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: koji_tag
short_description: Declare Koji tags, their inheritance, package lists, groups and external repos
version_added: 0.1.0
description:
  - Creates, updates and deletes Koji tags so they match a declaration, with their
    inheritance, package listings (owners and blocks), comps groups and external repos.
  - Takes one tag (O(name) and its options) or many (O(tags)). Many tags are read in a
    few multicall requests, validated together (unknown parents, external repos or owners,
    bad arches, duplicate priorities, inheritance cycles) and written in dependency order,
    tags first, then inheritance, external repos, package lists and groups. A request
    that fails validation writes nothing.
  - An option that is not set (V(null)) is left as it is on the hub. A list or dict
    option that is set is enforced exactly (for example O(packages) removes listings
    the declaration does not name).
  - Option names follow C(ktdreyer.koji_ansible.koji_tag).
author:
  - kojiforge.koji contributors (@kojiforge)
extends_documentation_fragment:
  - kojiforge.koji.connection
  - kojiforge.koji.names
  - kojiforge.koji.objects_src
attributes:
  check_mode:
    support: full
    description: Decided from reads only; nothing is written.
  diff_mode:
    support: full
    description: Returns the before and after state of every tag that changes.
options:
  name:
    description:
      - Name of the tag. Mutually exclusive with O(tags).
    type: str
  state:
    description:
      - V(present) creates or updates the tag, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  arches:
    description:
      - Architectures of the tag, a list or a space-separated string.
      - Compared as a set; on writes the given order is kept (the first arch builds the SRPM).
    type: list
    elements: str
  perm:
    description:
      - Permission required to tag builds into this tag. An empty string removes it.
    type: str
  locked:
    description:
      - Whether the tag is locked.
    type: bool
  maven_support:
    description:
      - Whether Maven repos are generated for the tag (the hub must enable Maven).
    type: bool
  maven_include_all:
    description:
      - Include every build of a package in the Maven repo, not only the latest.
    type: bool
  extra:
    description:
      - Extra settings of the tag (for example C(mock.package_manager)); keys not given
        are removed.
      - Since Koji 1.35 kojira regenerates the repo of a tag by itself only when the tag's
        extra has C(repo.auto) set to V(true) (other repos are made when a build or
        C(koji regen-repo) asks for one); declare it on every build tag whose repo must
        follow its content. C(repo.lag), the seconds the automatic repo may lag behind the
        tag, overrides the hub's C(RepoAutoLag) for the tag.
      - C(repo.auto) must be a boolean and C(repo.lag) an integer; other values fail the
        request before anything is written (the hub would read the string C('false') as
        true and ignore a C(repo.lag) that is not an integer). Koji before 1.35 stores
        both and ignores them.
    type: dict
  inheritance:
    description:
      - Parents of the tag. An empty list removes all parents.
    type: list
    elements: dict
    suboptions:
      parent:
        description: Name of the parent tag (existing, or declared in the same task).
        type: str
        required: true
      priority:
        description: Priority of the link; lower wins. Unique within the tag.
        type: int
        required: true
      maxdepth:
        description: How many levels of the parent's own inheritance are followed.
        type: int
      intransitive:
        description: The link is not followed by tags inheriting from this one.
        type: bool
        default: false
      noconfig:
        description: Inherit packages and builds only, not the configuration.
        type: bool
        default: false
      pkg_filter:
        description:
          - Regular expression (Python's C(re), as the hub uses it); only packages whose name
            matches are inherited.
          - An expression that does not compile fails the request before anything is
            written (the hub would store it and then fail every read through the link).
        type: str
        default: ''
  external_repos:
    description:
      - External repos of the tag. An empty list removes all.
    type: list
    elements: dict
    suboptions:
      repo:
        description: Name of the external repo (see M(kojiforge.koji.koji_external_repo)).
        type: str
        required: true
      priority:
        description: Priority of the repo in the tag; unique within the tag.
        type: int
        required: true
      merge_mode:
        description:
          - How the repo is merged. When not set, an attached repo keeps its mode and a
            new one gets V(koji).
        type: str
        choices: [koji, simple, bare]
      arches:
        description: Only use the repo for these arches; not set keeps what is there.
        type: list
        elements: str
  packages:
    description:
      - Package listing of the tag, a dict mapping each owner to the list of its packages.
      - Packages the tag inherits unblocked from a parent are already available and are
        not added again. Packages listed directly on the tag but not given are removed.
      - A package given here that a parent blocks is listed in the tag itself (over the
        block), also when the parent starts blocking it in the same run (the listing is then
        written after the block, with C(force)).
      - The owners must exist as Koji users.
    type: dict
  blocked_packages:
    description:
      - Packages blocked in the tag. Each must be listed in the tag or a parent.
      - Blocks not given are lifted.
    type: list
    elements: str
  groups:
    description:
      - Comps groups of the tag, a dict mapping each group name to the list of its
        packages. A build tag needs C(build) and C(srpm-build).
      - Groups and group packages inherited from a parent count as present; groups and
        group packages set directly on the tag but not given are removed.
      - A group or group package given here that the tag or one of its parents blocks is
        unblocked in the tag (added with C(force)). Blocks of groups and packages not given
        are left alone.
    type: dict
  force_delete:
    description:
      - With O(state=absent), delete the tag even when other tags inherit from it or build
        targets use it. The hub then removes those inheritance links and targets with it;
        the tag's C(changes) list each of them.
      - Without it, such a tag is not deleted and the request fails before anything is
        written, naming the dependents. Children deleted in the same request, and children
        whose O(inheritance) in the same request no longer names the tag, do not count.
    type: bool
    default: false
  tags:
    description:
      - Many tags at once, each a dict with the options above (O(name) required).
      - Mutually exclusive with O(name).
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the tag.
        type: str
        required: true
      state:
        description: V(present) or V(absent).
        type: str
        choices: [present, absent]
        default: present
      arches:
        description: Architectures of the tag.
        type: list
        elements: str
      perm:
        description: Permission required to tag builds into this tag.
        type: str
      locked:
        description: Whether the tag is locked.
        type: bool
      maven_support:
        description: Whether Maven repos are generated for the tag.
        type: bool
      maven_include_all:
        description: Include every build of a package in the Maven repo.
        type: bool
      extra:
        description:
          - Extra settings of the tag; keys not given are removed.
          - C(repo.auto) (boolean) and C(repo.lag) (integer) as in the top-level O(extra).
        type: dict
      inheritance:
        description: Parents of the tag.
        type: list
        elements: dict
        suboptions:
          parent:
            description: Name of the parent tag.
            type: str
            required: true
          priority:
            description: Priority of the link.
            type: int
            required: true
          maxdepth:
            description: How many levels of the parent's inheritance are followed.
            type: int
          intransitive:
            description: The link is not followed by tags inheriting from this one.
            type: bool
            default: false
          noconfig:
            description: Inherit packages and builds only.
            type: bool
            default: false
          pkg_filter:
            description: Only packages whose name matches are inherited.
            type: str
            default: ''
      external_repos:
        description: External repos of the tag.
        type: list
        elements: dict
        suboptions:
          repo:
            description: Name of the external repo.
            type: str
            required: true
          priority:
            description: Priority of the repo in the tag.
            type: int
            required: true
          merge_mode:
            description: How the repo is merged.
            type: str
            choices: [koji, simple, bare]
          arches:
            description: Only use the repo for these arches.
            type: list
            elements: str
      packages:
        description: Package listing, a dict mapping each owner to its packages.
        type: dict
      blocked_packages:
        description: Packages blocked in the tag.
        type: list
        elements: str
      groups:
        description: Comps groups, a dict mapping each group name to its packages.
        type: dict
      force_delete:
        description: Delete the tag even when other tags inherit from it or targets use it.
        type: bool
        default: false
notes:
  - Deleting a tag that other tags inherit from or build targets use needs O(force_delete);
    the hub then removes those links and targets too.
  - An owner change on a package the tag only inherits cannot be stored by Koji without
    listing the package directly; such packages count as present whatever their owner.
seealso:
  - module: kojiforge.koji.koji_external_repo
  - module: kojiforge.koji.koji_target
'''

EXAMPLES = r'''
- name: Declare a product tag
  kojiforge.koji.koji_tag:
    koji: production
    name: el9-base
    arches: [x86_64, aarch64]
    packages:
      releng: [bash, coreutils, rpm]
    blocked_packages: [legacy-tool]

- name: Declare a build tag with its parents, groups and mirrors
  kojiforge.koji.koji_tag:
    server: https://koji.example.com/kojihub
    cert: /etc/pki/koji/admin.pem
    serverca: /etc/pki/koji/koji-ca.crt
    name: el9-build
    arches: x86_64 aarch64
    extra:
      mock.package_manager: dnf
      # Koji 1.35 and later: kojira keeps this tag's repo current by itself.
      repo.auto: true
    inheritance:
      - parent: el9-base
        priority: 0
    external_repos:
      - repo: almalinux9-baseos
        priority: 10
      - repo: almalinux9-appstream
        priority: 20
        merge_mode: bare
    groups:
      build: [bash, coreutils, gcc, make, redhat-rpm-config, rpm-build, shadow-utils]
      srpm-build: [bash, redhat-rpm-config, rpm-build, shadow-utils]

- name: Declare many tags in one task (read and written in a few multicalls)
  kojiforge.koji.koji_tag:
    koji: production
    tags: "{{ koji_tags }}"

- name: Delete a tag
  kojiforge.koji.koji_tag:
    koji: production
    name: el8-obsolete
    state: absent
'''

RETURN = r'''
changes:
  description: What changed (or would change in check mode), per tag.
  returned: always
  type: list
  elements: dict
  sample:
    - type: tag
      name: el9-build
      action: update
      changes: ["add parent el9-base (priority 0)", "add package bash (owner releng)"]
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
from ansible_collections.kojiforge.koji.plugins.module_utils.planners.tag import plan_tags


def inheritance_spec():
    return dict(
        parent=dict(type='str', required=True),
        priority=dict(type='int', required=True),
        maxdepth=dict(type='int'),
        intransitive=dict(type='bool', default=False),
        noconfig=dict(type='bool', default=False),
        pkg_filter=dict(type='str', default=''),
    )


def external_repo_spec():
    return dict(
        repo=dict(type='str', required=True),
        priority=dict(type='int', required=True),
        merge_mode=dict(type='str', choices=['koji', 'simple', 'bare']),
        arches=dict(type='list', elements='str'),
    )


def tag_spec(name_required):
    return dict(
        name=dict(type='str', required=name_required),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        arches=dict(type='list', elements='str'),
        perm=dict(type='str'),
        locked=dict(type='bool'),
        maven_support=dict(type='bool'),
        maven_include_all=dict(type='bool'),
        extra=dict(type='dict'),
        inheritance=dict(type='list', elements='dict', options=inheritance_spec()),
        external_repos=dict(type='list', elements='dict', options=external_repo_spec()),
        packages=dict(type='dict'),
        blocked_packages=dict(type='list', elements='str'),
        groups=dict(type='dict'),
        force_delete=dict(type='bool', default=False),
    )


TAG_KEYS = tuple(tag_spec(False))


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(name_argument_spec())
    argument_spec['src'] = dict(type='path')
    argument_spec.update(tag_spec(False))
    argument_spec['tags'] = dict(type='list', elements='dict', options=tag_spec(True))
    module = AnsibleModule(
        argument_spec=argument_spec,
        mutually_exclusive=[('name', 'tags')],
        required_one_of=[('name', 'tags')],
        supports_check_mode=True,
    )
    run_module(module, 'tags', TAG_KEYS, plan_tags)


if __name__ == '__main__':
    main()
