# -*- coding: utf-8 -*-
# Copyright: kojiforge.koji contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``main`` every kojiforge.koji object module shares.

Every module's main builds its AnsibleModule and calls ``run_module`` with its planner
(``planners/<object>.py``); the call path then reads top-down, in the same four steps:

1. read the current state of every object the task names, in a few multicall
   batches (``koji_reads``), anonymously;
2. compute the difference between what was asked for and what is there, and
   validate the WHOLE request (``koji_validation``): a request that fails validation
   writes nothing;
3. put the writes into a ``Plan`` (``koji_plan``), each in a numbered phase (external repos
   before tags, parents before children, inheritance after both exist...);
4. unless in check mode, log in and run the plan phase by phase, each phase in
   multicall batches. The hub runs each batch as one transaction in which a
   refused call does not undo its neighbours, so a refusal stops the plan after
   that batch and is reported with what was already applied; a re-run converges.
   The writes of a phase made only of calls on independent objects (package
   listings, groups, inheritance of different tags...) are spread over several
   logged-in sessions (``write_sessions``); each object's writes stay on one
   session, in order (``koji_writes``).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.kojiforge.koji.plugins.module_utils.koji_connection import KojiConnection
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_errors import KojiModuleError
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_invocation import compact_invocation
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_params import objects_from_params
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_writes import write_plan


def run_module(module, list_key, item_keys, planner):
    """The main of every object module, top-down: connect, take the declarations (one object
    from the top-level options ``item_keys``, or the list ``list_key``), let
    ``planner(conn, declarations, module)`` read, validate and return the Plan, write it
    unless in check mode, and exit with the standard result."""
    invocation = compact_invocation(module.params)
    conn = None
    try:
        conn = KojiConnection(module.params)
        declarations = objects_from_params(module.params, list_key, item_keys)
        plan = planner(conn, declarations, module)
        if not module.check_mode:
            write_plan(conn, plan)
    except KojiModuleError as exc:
        extra = dict(exc.extra)
        extra.setdefault('changed', False)
        if conn is not None:
            extra['requests'] = conn.requests
            conn.logout()
        module.fail_json(msg=exc.msg, invocation=invocation, **extra)
    conn.logout()
    result = dict(plan.extra_result)
    result.update({'changed': plan.changed, 'changes': plan.changes(),
                   'requests': conn.requests, 'invocation': invocation})
    if module._diff:
        result['diff'] = plan.diff()
    module.exit_json(**result)
