"""The object modules' action plugin: src read on the controller into the list option."""

import json

import pytest

from ansible.errors import AnsibleActionFail

from fakehub import runner

runner.collection_path()

from ansible_collections.kojiforge.koji.plugins.plugin_utils.koji_objects_action import (  # noqa: E402
    load_objects,
)


def test_a_yaml_list(tmp_path):
    path = tmp_path / 'tags.yml'
    path.write_text('- name: a\n  arches: [x86_64]\n- name: "{{ not_templated }}"\n')
    assert load_objects(str(path), 'tags') == [{'name': 'a', 'arches': ['x86_64']},
                                               {'name': '{{ not_templated }}'}]


def test_a_vars_file_with_one_variable(tmp_path):
    path = tmp_path / 'koji_tags.yml'
    path.write_text('---\nkoji_tags:\n  - name: a\n')
    assert load_objects(str(path), 'tags') == [{'name': 'a'}]


def test_json(tmp_path):
    path = tmp_path / 'targets.json'
    path.write_text(json.dumps({'targets': [{'name': 't', 'build_tag': 'b', 'dest_tag': 'd'}]}))
    assert load_objects(str(path), 'targets') == [{'name': 't', 'build_tag': 'b', 'dest_tag': 'd'}]


@pytest.mark.parametrize('text, message', [
    ('koji_tags: []\nkoji_targets: []\n', 'mapping with 2 keys'),
    ('- a\n- b\n', 'must hold a list of objects'),
    ('name: a\n', 'must hold a list of objects'),
    ('- name: [unclosed\n', 'is not valid YAML'),
    ('$ANSIBLE_VAULT;1.1;AES256\n6162\n', 'must hold a list of objects'),
])
def test_bad_files_are_refused_clearly(tmp_path, text, message):
    path = tmp_path / 'bad.yml'
    path.write_text(text)
    with pytest.raises(AnsibleActionFail) as info:
        load_objects(str(path), 'tags')
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_a_missing_file(tmp_path):
    with pytest.raises(AnsibleActionFail) as info:
        load_objects(str(tmp_path / 'nowhere.yml'), 'tags')
    assert 'cannot read' in str(info.value)


def test_src_reaching_the_module_is_refused():
    from ansible_collections.kojiforge.koji.plugins.module_utils.koji_errors import KojiModuleError
    from ansible_collections.kojiforge.koji.plugins.module_utils.koji_params import objects_from_params
    with pytest.raises(KojiModuleError) as info:
        objects_from_params({'src': '/x.yml', 'tags': None, 'name': None}, 'tags', ('name',))
    assert 'action plugin' in info.value.msg


def test_one_action_plugin_serves_every_object_module():
    """meta/runtime.yml groups the object modules (module_defaults: group/kojiforge.koji.koji)
    and routes their action names to the one action plugin, which knows each one's list."""
    import pathlib

    import yaml

    from ansible_collections.kojiforge.koji.plugins.plugin_utils.koji_objects_action import (
        LIST_KEYS, list_key_of,
    )

    root = pathlib.Path(runner.REPO_ROOT)
    modules = sorted(p.stem for p in (root / 'plugins' / 'modules').glob('koji_*.py'))
    runtime = yaml.safe_load((root / 'meta' / 'runtime.yml').read_text())
    assert sorted(runtime['action_groups']['koji']) == modules
    # koji_export only reads: in the group (module_defaults), without src or the action plugin
    modules = [name for name in modules if name != 'koji_export']
    assert sorted(LIST_KEYS) == modules
    actions = sorted(p.stem for p in (root / 'plugins' / 'action').glob('*.py'))
    assert actions == ['koji_tag']
    routed = runtime['plugin_routing']['modules']
    assert routed == dict((name, {'action_plugin': 'kojiforge.koji.koji_tag'})
                          for name in modules if name != 'koji_tag')
    assert list_key_of('kojiforge.koji.koji_external_repo') == 'repos'
    assert list_key_of('koji_target') == 'targets'
