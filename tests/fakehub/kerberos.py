"""Kerberos (GSSAPI) login against the fake hub, without a KDC.

The real client (``koji.ClientSession.gssapi_login``) sets ``KRB5_CLIENT_KTNAME`` (keytab) and
``KRB5CCNAME`` (ticket cache) for the duration of the login and sends ``sslLogin`` with an
``Authorization: Negotiate`` header made by requests-gssapi's ``HTTPKerberosAuth``. Tests
replace that class with ``FakeKerberosAuth`` (``install(monkeypatch)``), which sends
``Negotiate`` + the base64 of ``fake-krb5:<principal>``; the fake hub's ``sslLogin`` maps that
principal to a user by its Kerberos principals, as the hub maps the principal Apache
authenticated.

Which principal: the ``principal`` the client passes, else the first line of the ticket
cache file ``KRB5CCNAME`` names (tests write the principal there, as ``kinit`` would leave a
ticket). A keytab named by ``KRB5_CLIENT_KTNAME`` must exist, as krb5 would read it. Every
login is recorded in ``FakeKerberosAuth.logins`` (principal, keytab, ccache as seen then).
"""

import base64
import os

import requests

TOKEN_PREFIX = 'fake-krb5:'


def negotiate_token(principal):
    return base64.b64encode((TOKEN_PREFIX + principal).encode('utf-8')).decode('ascii')


def principal_from_header(value):
    """The principal of an ``Authorization: Negotiate`` header made by FakeKerberosAuth,
    else None."""
    if not value or not value.startswith('Negotiate '):
        return None
    try:
        text = base64.b64decode(value.split(' ', 1)[1]).decode('utf-8')
    except (ValueError, UnicodeDecodeError):
        return None
    return text[len(TOKEN_PREFIX):] if text.startswith(TOKEN_PREFIX) else None


class FakeKerberosError(requests.exceptions.RequestException):
    """What requests-gssapi raises when krb5 finds no credentials."""


class FakeKerberosAuth(requests.auth.AuthBase):
    """Stands in for requests_gssapi.HTTPKerberosAuth (same constructor keywords)."""

    logins = []

    def __init__(self, principal=None, **kwargs):
        self.principal = principal

    def __call__(self, request):
        keytab = os.environ.get('KRB5_CLIENT_KTNAME')
        ccache = os.environ.get('KRB5CCNAME')
        FakeKerberosAuth.logins.append({'principal': self.principal, 'keytab': keytab,
                                        'ccache': ccache})
        principal = self.principal
        if keytab and not os.path.isfile(keytab):
            raise FakeKerberosError('fake krb5: keytab %s not found' % keytab)
        if principal is None and ccache:
            path = ccache[len('FILE:'):] if ccache.startswith('FILE:') else ccache
            if os.path.isfile(path):
                with open(path) as cache:
                    principal = cache.readline().strip() or None
        if principal is None:
            raise FakeKerberosError('fake krb5: no credentials found in ticket cache %s'
                                    % ccache)
        request.headers['Authorization'] = 'Negotiate ' + negotiate_token(principal)
        return request


def install(monkeypatch):
    """Make koji's gssapi_login use FakeKerberosAuth (for this test); returns its login list."""
    import koji
    FakeKerberosAuth.logins = []
    monkeypatch.setattr(koji.reqgssapi, 'HTTPKerberosAuth', FakeKerberosAuth)
    return FakeKerberosAuth.logins
