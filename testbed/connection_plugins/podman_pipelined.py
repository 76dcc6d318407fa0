# The test bed's connection to its podman containers: containers.podman.podman with pipelining.
# GNU General Public License v3.0+ (see LICENSE)
"""containers.podman.podman, with pipelining: a task costs one ``podman exec`` instead of four.

The stock plugin cannot pipeline (``podman exec`` without ``-i`` does not pass stdin on), so each
task creates a temporary folder, copies the module in, makes it executable and runs it, and every
connection starts by mounting the container's filesystem. Here the module goes to the Python
process on stdin (``podman exec -i``), as over SSH with pipelining, and the filesystem is mounted
only when a file is really copied (``copy`` with ``src``, ``fetch``).

Test bed only (testbed/demo.sh, the molecule scenarios, the benchmark): sites reach their hosts
over SSH. The deploy benchmark measures the stock podman plugin, this one and SSH side by side.
"""

from __future__ import annotations

import shlex

from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.connection import ConnectionBase, ensure_connect
from ansible_collections.containers.podman.plugins.connection.podman import Connection as PodmanConnection

DOCUMENTATION = """
    name: podman_pipelined
    short_description: Run tasks in a podman container, one podman exec per task (test bed)
    description:
      - The containers.podman.podman connection with pipelining, and the container's filesystem
        mounted only when a file is copied. For the kojiforge.koji test bed.
    options:
      remote_addr:
        description: The container's name or ID.
        default: inventory_hostname
        vars:
          - name: ansible_host
          - name: inventory_hostname
          - name: ansible_podman_host
      remote_user:
        description: The user the commands run as in the container.
        ini:
          - section: defaults
            key: remote_user
        env:
          - name: ANSIBLE_REMOTE_USER
        vars:
          - name: ansible_user
      podman_extra_args:
        description: Extra arguments to the podman command line.
        default: ''
        vars:
          - name: ansible_podman_extra_args
        env:
          - name: ANSIBLE_PODMAN_EXTRA_ARGS
      podman_executable:
        description: The podman executable.
        default: podman
        vars:
          - name: ansible_podman_executable
        env:
          - name: ANSIBLE_PODMAN_EXECUTABLE
      pipelining:
        description: Send modules on stdin instead of copying them in (on unless turned off).
        type: bool
        default: true
        vars:
          - name: ansible_pipelining
          - name: ansible_podman_pipelining
        env:
          - name: ANSIBLE_PIPELINING
"""


class Connection(PodmanConnection):
    """Pipelining and a lazy mount on top of containers.podman.podman."""

    transport = "podman_pipelined"
    has_pipelining = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._mount_tried = False

    def _connect(self):
        # No mount here: most tasks never copy a file.
        ConnectionBase._connect(self)  # pylint: disable=protected-access
        self._connected = True
        return self

    def _mount_once(self):
        if not self._mount_tried:
            self._mount_tried = True
            PodmanConnection._connect(self)  # mounts the container's filesystem when it can

    @ensure_connect
    def exec_command(self, cmd, in_data=None, sudoable=False):
        ConnectionBase.exec_command(self, cmd, in_data=in_data, sudoable=sudoable)
        exec_args = ["exec"] + (["-i"] if in_data is not None else [])
        if self.user:
            exec_args += ["--user", self.user]
        return self._podman(exec_args, shlex.split(to_native(cmd, errors="surrogate_or_strict")), in_data)

    def put_file(self, in_path, out_path):
        self._mount_once()
        super().put_file(in_path, out_path)

    def fetch_file(self, in_path, out_path):
        self._mount_once()
        super().fetch_file(in_path, out_path)
