"""full_inheritance_filters (koji_export's view of what a tag inherits): the same walk as
full_inheritance, each ancestor with the package filters of its path, checked against the fake
hub's getFullInheritance (whose walk and filters follow the hub's readFullInheritance)."""

from fakehub import runner

runner.collection_path()

# pylint: disable=wrong-import-position
from ansible_collections.kojiforge.koji.plugins.module_utils.koji_inheritance import (  # noqa: E402
    full_inheritance, full_inheritance_filters, links_by_tag,
)

OPTIONS = ({}, {'maxdepth': 1}, {'intransitive': True}, {'noconfig': True}, {'pkg_filter': '^b'},
           {'pkg_filter': '^[a-m]'}, {'maxdepth': 0})


def test_the_filters_of_each_path_are_the_hub_s(hub):
    session = hub.hub.session()
    names = ['f%02d' % i for i in range(24)]
    for name in names:
        session.createTag(name)
    ids = dict((name, session.getTag(name)['id']) for name in names)
    for i, name in enumerate(names[2:], 2):
        links = [dict({'parent_id': ids[names[(i - 1) // 2]], 'priority': 10, 'maxdepth': None,
                       'intransitive': False, 'noconfig': False, 'pkg_filter': ''},
                      **OPTIONS[i % len(OPTIONS)])]
        if i % 3 == 0:
            links.append(dict({'parent_id': ids[names[i // 3]], 'priority': 20, 'maxdepth': None,
                               'intransitive': False, 'noconfig': False, 'pkg_filter': '^r'},
                              **OPTIONS[(i + 2) % len(OPTIONS)]))
        session.setInheritanceData(name, links)
    links = links_by_tag(hub.anon.queryHistory(tables=['tag_inheritance'], active=True)['tag_inheritance'])
    filtered = 0
    for name in names:
        pairs = full_inheritance_filters(name, links)
        assert [ancestor for ancestor, _filters in pairs] == full_inheritance(name, links)
        hub_view = [(link['name'], link['filter']) for link in hub.anon.getFullInheritance(name)]
        assert [(ancestor, list(filters)) for ancestor, filters in pairs] == hub_view, name
        filtered += sum(1 for _ancestor, filters in pairs if filters)
    assert filtered > 5  # the forest does exercise the filters
