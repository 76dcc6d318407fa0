"""queryHistory over the tables the modules read (inheritance, package listings, comps groups).

A mixin of the fake hub's HubAPI (api.py)."""

import koji

from .api_common import apply_query_opts


class HistoryCalls(object):

    # ---- history ----------------------------------------------------------------------
    HISTORY_TABLES = ('tag_inheritance', 'tag_packages', 'tag_listing', 'group_config',
                      'group_package_listing', 'group_req_listing')

    def _history_names(self, table, row):
        """The name fields the hub joins into a history row (tags and packages never vanish)."""
        named = {'tag.name': self.state.tags.get(row['tag_id'], {}).get('name')}
        if table == 'tag_inheritance':
            named['parent.name'] = self.state.tags.get(row['parent_id'], {}).get('name')
        elif table == 'tag_packages':
            named['package.name'] = self.state.packages[row['package_id']]
        elif table.startswith('group_'):
            named['group.name'] = self.state.groups[row['group_id']]
            if table == 'group_req_listing':
                named['req.name'] = self.state.groups[row['req_id']]
        else:
            build = self.state.extra['tasks'].builds[row['build_id']]
            named.update({'name': self.state.packages[build['package_id']],
                          'version': build['version'], 'release': build['release'],
                          'epoch': None, 'build.state': build['state']})
        return named

    def queryHistory(self, tables=None, queryOpts=None, **kwargs):
        """The hub's query_history for tag_inheritance, tag_packages, tag_listing, group_config
        and group_package_listing, filtered by ``afterEvent`` (created or revoked after it),
        ``active`` and ``tag`` (an id, a name or a dict with either, as the hub's get_tag_id; an
        unknown one raises as there; in tag_inheritance the tag may be the child or the parent);
        a dict of table name -> rows
        with create_event/revoke_event/active and the table's fields. ``queryOpts`` applies to
        each table on its own: with countOnly each table's value is its number of rows."""
        unsupported = set(kwargs) - {'afterEvent', 'active', 'tag'}
        if unsupported:
            raise koji.GenericError('the fake hub does not filter history by %s' % ', '.join(sorted(unsupported)))
        tables = self.HISTORY_TABLES if tables is None else tables
        for table in tables:
            if table not in self.HISTORY_TABLES:
                raise koji.GenericError('No such history table (in the fake hub): %s' % table)
        tag_id = None
        if 'tag' in kwargs and tables:
            # the hub looks the tag up for each table that has a tag column (all of these)
            tag = self.state.find_tag(kwargs['tag'])
            if tag is None:
                raise koji.GenericError('No such entry in table tag: %s' % (kwargs['tag'],))
            tag_id = tag['id']
        self.state.sync_history(self.state.event_id)
        after = kwargs.get('afterEvent')
        result = {}
        for table in tables:
            rows = []
            for row in self.state.history.get(table, ()):
                if after is not None and not (row['create_event'] > after or (row['revoke_event'] or 0) > after):
                    continue
                if 'active' in kwargs and kwargs['active'] is not None and bool(row['active']) != bool(kwargs['active']):
                    continue
                if tag_id is not None and tag_id not in (row['tag_id'], row.get('parent_id')):
                    continue
                out = dict(row, creator_id=1, revoker_id=1 if row['revoke_event'] else None,
                           create_ts=self.state.events[row['create_event']],
                           revoke_ts=self.state.events.get(row['revoke_event']))
                out.update(self._history_names(table, row))
                rows.append(out)
            result[table] = apply_query_opts(rows, queryOpts)
        return result
