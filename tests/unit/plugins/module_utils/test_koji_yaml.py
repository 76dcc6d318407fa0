"""koji_yaml: the YAML text the export writes reads back (yaml.safe_load, as the modules' src
does) as exactly the data, with plain scalars where they are safe."""

import math

import pytest
import yaml

from fakehub import runner

runner.collection_path()

# pylint: disable=wrong-import-position
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_yaml import dump, scalar  # noqa: E402

TRICKY = ['yes', 'No', 'on', 'OFF', 'null', '~', 'true', '', ' ', 'a: b', 'a #b', 'a:', '-x', '- x',
          '.inf', '1.0', '0x1F', '1e3', '2024-01-01', '12:30', '010', '+1', '*ref', '&anchor',
          '!tag', '|', '>', '%x', '@x', '`x', '{a}', '[a]', '"q"', "'q'", 'a\nb', 'tab\there',
          'trailing ', '  lead', 'double  space', 'é unicode ü', '\u2028', 'back\\slash',
          '$arch', 'https://mirror.example.org/el/9/$arch/os/', 'mock.package_manager', '^[a-p]',
          'x86_64', 'kojiadmin@EXAMPLE.COM', '<<', '?', 'a,b', 'key=value', '50%']


@pytest.mark.parametrize('text', TRICKY)
def test_every_string_reads_back_as_itself(text):
    data = {'koji_x': [{'name': text, text or 'k': [text], 'extra': {'nested': {text or 'k': text}}}]}
    assert yaml.safe_load(dump(data)) == data


def test_other_scalars_and_empty_containers_read_back():
    data = {'koji_x': [{'name': 'a', 'int': 3, 'neg': -2, 'float': 6.0, 'big': 1e20, 'small': 2.5e-9,
                        'bool': True, 'off': False, 'none': None, 'list': [], 'dict': {},
                        'nested': [[1, 2], [], {'a': [{'b': None}]}]}]}
    assert yaml.safe_load(dump(data)) == data
    loaded = yaml.safe_load(dump({'x': [float('inf'), float('-inf'), float('nan')]}))['x']
    assert loaded[:2] == [float('inf'), float('-inf')] and math.isnan(loaded[2])


def test_the_layout_is_block_style_in_key_order():
    text = dump({'koji_tags': [{'name': 'el9-build', 'arches': ['x86_64', 'aarch64'],
                                'extra': {'mock.package_manager': 'dnf'},
                                'inheritance': [{'parent': 'el9-base', 'priority': 0}]}]},
                header='# head\n')
    assert text == ('# head\n'
                    'koji_tags:\n'
                    '  - name: el9-build\n'
                    '    arches:\n'
                    '      - x86_64\n'
                    '      - aarch64\n'
                    '    extra:\n'
                    '      mock.package_manager: dnf\n'
                    '    inheritance:\n'
                    '      - parent: el9-base\n'
                    '        priority: 0\n')


def test_plain_only_where_safe():
    assert scalar('https://mirror.example.org/$arch/') == 'https://mirror.example.org/$arch/'
    assert scalar('yes') == '"yes"'
    assert scalar('2024-01-01') == '"2024-01-01"'
