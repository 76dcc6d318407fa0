# -*- coding: utf-8 -*-
# Copyright: kojiforge.koji contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks of a whole request before anything is written: every problem is collected and
reported at once. Holds the list of known architecture names."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

try:
    from urllib.parse import urlparse
except ImportError:  # pragma: no cover - Python 2 is not supported, keep sanity quiet
    from urlparse import urlparse

from ansible_collections.kojiforge.koji.plugins.module_utils.koji_errors import KojiModuleError

MAX_ERRORS_IN_MSG = 10

# Architecture names Koji deployments use. Koji itself only rejects characters
# outside [a-zA-Z0-9_-]; a typo such as "x86-64" would be accepted by the hub
# and silently never match a builder, so the modules check names against this list.
KNOWN_ARCHES = frozenset((
    'noarch', 'src', 'nosrc',
    'i386', 'i486', 'i586', 'i686', 'athlon', 'geode', 'x86_64', 'amd64', 'ia32e',
    'aarch64', 'arm64', 'armv5tel', 'armv5tejl', 'armv6l', 'armv6hl', 'armv7l', 'armv7hl',
    'armv7hnl', 'armhfp',
    'ppc', 'ppc64', 'ppc64le', 'ppc64p7', 'ppc64pseries', 'ppc64iseries',
    's390', 's390x', 'riscv64', 'loongarch64', 'ia64', 'mips', 'mipsel', 'mips64',
    'mips64el', 'sparc', 'sparcv9', 'sparc64', 'alpha', 'sh4',
))
ARCH_CHARS = re.compile(r'^[a-zA-Z0-9_\-]+$')
URL_SCHEMES = ('http', 'https', 'ftp', 'file')
# primary, optional /instance components (none empty), one @, a realm; no white space
KRB_PRINCIPAL = re.compile(r'^[^/@\s]+(/[^/@\s]+)*@[^/@\s]+$')


class Validator:
    """Collects every problem of a request, so all are reported at once and nothing is
    written when there is any."""

    def __init__(self):
        self.errors = []

    def error(self, msg, *args):
        self.errors.append(msg % args if args else msg)

    def check(self):
        if self.errors:
            if len(self.errors) == 1:
                msg = 'invalid request, nothing was changed: %s' % self.errors[0]
            else:
                shown = '; '.join(self.errors[:MAX_ERRORS_IN_MSG])
                if len(self.errors) > MAX_ERRORS_IN_MSG:
                    shown += '; and %d more (see "errors")' % (len(self.errors) - MAX_ERRORS_IN_MSG)
                msg = ('invalid request, nothing was changed: %d problems: %s'
                       % (len(self.errors), shown))
            raise KojiModuleError(msg, errors=list(self.errors))

    def arches(self, where, arches):
        """Check a list of arch names; returns the list."""
        for arch in arches:
            if not ARCH_CHARS.match(arch):
                self.error('%s: arch %r has characters other than [a-zA-Z0-9_-]', where, arch)
            elif arch not in KNOWN_ARCHES:
                self.error('%s: unknown arch %r (known: %s)', where, arch,
                           ', '.join(sorted(KNOWN_ARCHES)))
        return arches

    def url(self, where, url):
        parsed = urlparse(url or '')
        if parsed.scheme not in URL_SCHEMES:
            self.error('%s: malformed URL %r (scheme must be one of %s)', where, url,
                       ', '.join(URL_SCHEMES))
        elif parsed.scheme != 'file' and not parsed.netloc:
            self.error('%s: malformed URL %r (no host)', where, url)
        elif re.search(r'\s', url):
            self.error('%s: malformed URL %r (contains white space)', where, url)

    def regex(self, where, pattern):
        """Check a regular expression the hub will compile later (with Python's re), when
        a refusal would no longer point at the declaration."""
        try:
            re.compile(pattern)
        except re.error as exc:
            self.error('%s: %r is not a valid regular expression: %s', where, pattern, exc)

    def krb_principal(self, where, principal):
        """Check the form of a Kerberos principal: primary[/instance...]@REALM. (Which
        characters the hub takes is the user name pattern's business, see koji_names.)"""
        if not principal:
            return
        if not KRB_PRINCIPAL.match(principal):
            self.error('%s: malformed Kerberos principal %r (expected primary[/instance]@REALM, '
                       'for example compile/builder1.example.com@EXAMPLE.COM)', where, principal)

    def unique(self, where, items, what):
        seen = set()
        for item in items:
            if item in seen:
                self.error('%s: %s %s is given more than once', where, what, item)
            seen.add(item)
