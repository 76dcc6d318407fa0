# -*- coding: utf-8 -*-
# Copyright: kojiforge.koji contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    # The options of plugins/module_utils/koji_connection.py connection_argument_spec().
    DOCUMENTATION = r'''
options:
  koji:
    description:
      - Name of a koji client profile (C(/etc/koji.conf), C(/etc/koji.conf.d/*.conf),
        C(~/.koji/config)) to take the hub URL and the credentials from.
      - When neither O(koji) nor O(server) is set, the profile named by the
        E(KOJI_PROFILE) environment variable is used, or C(koji).
      - Options given explicitly (O(server), O(cert)...) take precedence over the profile.
    type: str
  server:
    description:
      - URL of the hub's XML-RPC endpoint, for example C(https://koji.example.com/kojihub).
      - With O(server) and no O(koji), no profile is read.
    type: str
  cert:
    description:
      - Client certificate and key in one PEM file, for certificate (SSL) login.
    type: path
  serverca:
    description:
      - CA certificate(s) the hub's certificate must be signed by.
    type: path
  user:
    description:
      - User name for password login (hubs that allow it; test hubs).
    type: str
  password:
    description:
      - Password for password login.
    type: str
  principal:
    description:
      - Kerberos principal for Kerberos (GSSAPI) login, for example
        C(koji-admin@EXAMPLE.COM); the hub maps it to a Koji user.
      - With O(keytab), the principal whose key is taken from the keytab. With O(ccache) or
        the default ticket cache, the principal whose ticket is used (not set, the cache's
        default principal).
    type: str
  keytab:
    description:
      - Path of a Kerberos keytab on the host the module runs on, for Kerberos login with
        O(principal) and no password (service accounts). The module gets its own ticket
        from it (krb5's client keytab).
      - Checked when the module logs in, before anything is written; a keytab that is
        missing or not readable fails the task. Only the path appears in results and
        messages, never the keytab's content.
    type: path
  ccache:
    description:
      - Kerberos ticket (credential) cache to log in with, on the host the module runs on,
        for example C(FILE:/tmp/krb5cc_1000) or a plain path; a ticket got there before
        with C(kinit). With O(keytab) too, the ticket got from the keytab is kept there.
      - Not set (and no O(keytab)), the default ticket cache is used (E(KRB5CCNAME), else
        krb5's default).
      - A file cache that does not exist fails the task before anything is written (unless
        O(keytab) is set). Taken from the profile's C(ccache) when the koji library reads
        that key.
    type: path
  authtype:
    description:
      - How to log in when something must be written.
      - Default is the profile's C(authtype), else C(ssl) when O(cert) names a file,
        else C(password) when O(user) and O(password) are set, else C(kerberos).
      - With C(kerberos), the module logs in with a keytab (O(keytab) and O(principal)), or
        with the ticket in a ticket cache (O(ccache)), or, when neither is set, with the
        ticket in the default ticket cache (E(KRB5CCNAME)). The hub must accept Kerberos at
        its login URL; a login that fails names the principal, keytab or ticket cache it
        used.
      - Reads are always anonymous; the module logs in only when there is something
        to write, so check mode and runs that change nothing need no credentials.
    type: str
    choices: [ssl, password, kerberos]
  batch_size:
    description:
      - Number of hub calls sent in one multicall request.
      - Reads and writes are grouped in multicalls of this size; each write batch is
        its own transaction on the hub.
    type: int
    default: 200
  write_sessions:
    description:
      - Number of logged-in sessions the writes are spread over.
      - The writes of a phase that only touch separate objects (creating tags, their
        inheritance, external repos, package listings and groups, targets) run on up to
        this many sessions at once, each object's writes on one session and in order; the
        hub runs them in its several processes. The first call naming a new package or
        group runs before the other calls naming it, so that two sessions never both create
        the same name.
      - Deletes, hosts, channels and users are always written on one session.
      - C(1) writes everything on one session, in plan order.
      - When the hub refuses a call, the batches already sent on the other sessions finish
        and nothing more is sent; C(applied), C(refused) and C(not_applied) list every call
        once.
    type: int
    default: 3
  timeout:
    description:
      - Seconds to wait for the hub's answer to one request (one multicall batch, a login).
        A hub that does not answer in time fails the task with a message saying so, instead
        of hanging it (koji's own default is 12 hours).
      - Takes precedence over the profile's C(timeout) and C(auth_timeout).
      - A write batch that timed out may still be applied by the hub; the result lists it
        in C(not_applied) and a re-run converges.
    type: int
    default: 120
  read_retries:
    description:
      - How many times an anonymous read that got no answer (a timeout, a dropped
        connection) is sent again before the task fails; the first retry at once, the
        others 5 seconds apart. An answer, also an error, is never retried.
      - Writes are never sent again.
    type: int
    default: 2
requirements:
  - koji (the Koji client library, C(python3-koji) on EL)
'''
