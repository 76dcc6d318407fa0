"""Build the wheel of the metrics exporter (files/kojiforge-metrics) without a build backend.

The koji_web role runs this on the controller, whose Python may have no flit_core, setuptools or
network. It writes what flit_core's `pip wheel` writes for this project (the modules, METADATA,
WHEEL, RECORD with sha256 hashes) from pyproject.toml, with fixed zip times and order: the same
source always gives the same bytes, so the copy to the web hosts is unchanged on a re-run.

    python3 build_metrics_wheel.py PROJECT_DIR OUTPUT_DIR

prints {"path", "name", "version"} as JSON. The file is rewritten only when its bytes change.
"""

import base64
import hashlib
import io
import json
import os
import re
import sys
import tomllib
import zipfile

# 1980-01-01, the earliest time a zip entry can hold.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def _record_hash(data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=')
    return 'sha256=' + digest.decode('ascii')


def _version(module_dir):
    text = open(os.path.join(module_dir, '__init__.py'), encoding='utf-8').read()
    match = re.search(r"""^__version__\s*=\s*['"]([^'"]+)['"]""", text, re.M)
    if not match:
        raise SystemExit('no __version__ in %s/__init__.py' % module_dir)
    return match.group(1)


def _metadata(project, version, readme):
    lines = ['Metadata-Version: 2.1',
             'Name: %s' % project['name'],
             'Version: %s' % version,
             'Summary: %s' % project['description']]
    if 'requires-python' in project:
        lines.append('Requires-Python: %s' % project['requires-python'])
    lines.extend('Requires-Dist: %s' % dep for dep in project.get('dependencies', []))
    lines.append('Description-Content-Type: text/markdown')
    return ('\n'.join(lines) + '\n\n' + readme + '\n').encode('utf-8')


def _module_files(module_dir, module):
    files = []
    for top, dirs, names in os.walk(module_dir):
        dirs[:] = sorted(d for d in dirs if d != '__pycache__')
        for name in sorted(names):
            if name.endswith(('.pyc', '.pyo')):
                continue
            path = os.path.join(top, name)
            arcname = module + '/' + os.path.relpath(path, module_dir).replace(os.sep, '/')
            with open(path, 'rb') as handle:
                files.append((arcname, handle.read()))
    return files


def build(project_dir, output_dir):
    """Write the wheel into output_dir; return its path, distribution name and version."""
    with open(os.path.join(project_dir, 'pyproject.toml'), 'rb') as handle:
        pyproject = tomllib.load(handle)
    project = pyproject['project']
    module = pyproject['tool']['flit']['module']['name']
    module_dir = os.path.join(project_dir, 'src', module)
    version = _version(module_dir)
    with open(os.path.join(project_dir, project['readme']), encoding='utf-8') as handle:
        readme = handle.read()

    stem = '%s-%s' % (re.sub(r'[-_.]+', '_', project['name']).lower(), version)
    dist_info = stem + '.dist-info'
    files = _module_files(module_dir, module)
    files.append((dist_info + '/METADATA', _metadata(project, version, readme)))
    files.append((dist_info + '/WHEEL', b'Wheel-Version: 1.0\nGenerator: kojiforge build_metrics_wheel\n'
                                        b'Root-Is-Purelib: true\nTag: py3-none-any\n'))
    record = ''.join('%s,%s,%d\n' % (name, _record_hash(data), len(data)) for name, data in files)
    files.append((dist_info + '/RECORD', (record + dist_info + '/RECORD,,\n').encode('utf-8')))

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w', zipfile.ZIP_DEFLATED) as wheel:
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            wheel.writestr(info, data)
    data = buffer.getvalue()

    os.makedirs(output_dir, exist_ok=True)
    path = os.path.join(output_dir, stem + '-py3-none-any.whl')
    if not os.path.exists(path) or open(path, 'rb').read() != data:
        with open(path + '.tmp', 'wb') as handle:
            handle.write(data)
        os.replace(path + '.tmp', path)
    return {'path': path, 'name': project['name'], 'version': version}


if __name__ == '__main__':
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    print(json.dumps(build(sys.argv[1], sys.argv[2])))
