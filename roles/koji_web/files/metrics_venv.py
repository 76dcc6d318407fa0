"""The metrics exporter's virtualenv on a web host: create it when missing, say what it holds.

Run by the koji_web role with the system python3 (the one mod_wsgi embeds):
    python3 -c "$(cat metrics_venv.py)" VENV DISTRIBUTION CHECK_MODE
prints {"created", "site_packages", "version"} as JSON: whether the virtualenv was (or, in check
mode, would be) created, its site-packages directory and the installed version of DISTRIBUTION
there ("" when absent). System site-packages stay visible: prometheus_client and koji come from
the distribution.
"""

import json
import os
import subprocess
import sys
import sysconfig
import venv

QUERY = r'''
import importlib.metadata, json, re, sys, sysconfig
site_packages = sysconfig.get_path("purelib")
wanted = re.sub(r"[-_.]+", "-", sys.argv[1]).lower()
versions = [dist.version for dist in importlib.metadata.distributions(path=[site_packages])
            if re.sub(r"[-_.]+", "-", dist.metadata["Name"] or "").lower() == wanted]
print(json.dumps({"site_packages": site_packages, "version": versions[0] if versions else ""}))
'''


def main(home, distribution, check_mode):
    os.umask(0o022)  # the metrics process's user reads the virtualenv
    python = os.path.join(home, 'bin', 'python')
    created = not os.path.exists(python)
    if created and check_mode:
        scheme = 'venv' if 'venv' in sysconfig.get_scheme_names() else 'posix_prefix'
        state = {'site_packages': sysconfig.get_path('purelib', scheme, {'base': home, 'platbase': home}),
                 'version': ''}
    else:
        if created:
            venv.EnvBuilder(system_site_packages=True, with_pip=True, symlinks=True).create(home)
        state = json.loads(subprocess.check_output([python, '-c', QUERY, distribution]))
    state['created'] = created
    print(json.dumps(state))


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2], sys.argv[3] == 'True')
