# -*- coding: utf-8 -*-
# Copyright: kojiforge.koji contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turning a yum/dnf mirrorlist (or metalink) into a Koji external repo URL.

The mirrorlist is fetched on the host the module runs on, so a cloud provider's
internal mirror (which a mirror server hands out by source address) is used without
being hard-coded. Mirror URLs name a concrete architecture; Koji wants ``$arch`` in
its external repo URLs, so the arch path segment is turned back into ``$arch``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

try:
    from urllib.parse import urlparse, urlunparse
except ImportError:  # pragma: no cover
    from urlparse import urlparse, urlunparse

ARCH_VARIABLES = ('$arch', '$basearch')
METALINK_URL = re.compile(r'<url[^>]*>\s*([^<\s]+)\s*</url>', re.I)
REPOMD_SUFFIX = 'repodata/repomd.xml'


def expand_arch(url, arch):
    """Substitute the arch variables of a mirrorlist URL."""
    for variable in ARCH_VARIABLES:
        url = url.replace(variable, arch)
    return url


def parse_mirrorlist(text):
    """Mirror base URLs from a plain mirrorlist (one URL a line, # comments) or a
    metalink document, in the order given (mirror servers sort them by preference)."""
    urls = []
    if '<metalink' in text[:2000]:
        for url in METALINK_URL.findall(text):
            if url.endswith(REPOMD_SUFFIX):
                url = url[:-len(REPOMD_SUFFIX)]
            urls.append(url)
    else:
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            urls.append(line)
    result = []
    for url in urls:
        parsed = urlparse(url)
        if parsed.scheme in ('http', 'https', 'ftp') and parsed.netloc and url not in result:
            result.append(url)
    return result


def to_koji_url(url, arch):
    """Replace the path segments equal to ``arch`` by ``$arch``; ensure a trailing '/'."""
    parsed = urlparse(url)
    segments = parsed.path.split('/')
    segments = ['$arch' if segment == arch else segment for segment in segments]
    path = '/'.join(segments)
    if not path.endswith('/'):
        path += '/'
    return urlunparse((parsed.scheme, parsed.netloc, path, parsed.params, parsed.query,
                       parsed.fragment))


def choose_url(mirror_urls, arch, current_url=None):
    """The external repo URL to use: the current one while the mirrorlist still lists
    it (so runs do not flap between mirrors), else the first mirror listed.

    Returns (url, kept) where kept tells whether the current URL was kept."""
    candidates = [to_koji_url(url, arch) for url in mirror_urls]
    if current_url:
        current = current_url if current_url.endswith('/') else current_url + '/'
        if current in candidates:
            return current, True
    if not candidates:
        return None, False
    return candidates[0], False
