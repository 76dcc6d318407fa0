"""External repos and their links to tags.

A mixin of the fake hub's HubAPI (api.py)."""

import koji

from .api_common import REPO_MERGE_MODES, apply_query_opts, parse_arches, verify_name


class ExternalRepoCalls(object):

    # ---- external repos ----------------------------------------------------------------
    def createExternalRepo(self, name, url):
        self._assert_perm('admin')
        verify_name(name)
        if self.state.find_external_repo(name):
            raise koji.GenericError('An external repo named "%s" already exists' % name)
        self._write()
        rid = self.state.add_external_repo(name, url)
        return dict(self.state.external_repos[rid])

    def listExternalRepos(self, info=None, url=None, event=None, queryOpts=None):
        repos = [dict(self.state.external_repos[rid]) for rid in sorted(self.state.external_repos)]
        if info is not None:
            found = self.state.find_external_repo(info)
            repos = [r for r in repos if found and r['id'] == found['id']]
        if url:
            repos = [r for r in repos if r['url'] == url]
        return apply_query_opts(repos, queryOpts)

    def getExternalRepo(self, info, strict=False, event=None):
        repo = self._repo(info, strict=strict)
        return dict(repo) if repo else None

    def editExternalRepo(self, info, name=None, url=None):
        self._assert_perm('admin')
        repo = self._repo(info)
        if name and name != repo['name']:
            verify_name(name)
            other = self.state.find_external_repo(name)
            if other:
                raise koji.GenericError('name "%s" is already taken by external repo %i'
                                        % (name, other['id']))
        wrote = False
        if name and name != repo['name']:
            repo['name'] = name
            self.state.reindex()
        if url and url != repo['url']:
            if not url.endswith('/'):
                url += '/'
            repo['url'] = url
            wrote = True
        if wrote:
            self._write()
        return None

    def deleteExternalRepo(self, info):
        self._assert_perm('admin')
        repo = self._repo(info)
        self._write()
        for links in self.state.tag_external_repos.values():
            links.pop(repo['id'], None)
        del self.state.external_repos[repo['id']]

    def getTagExternalRepos(self, tag_info=None, repo_info=None, event=None):
        tag_id = self._tag(tag_info)['id'] if tag_info else None
        repo_id = self._repo(repo_info)['id'] if repo_info else None
        result = []
        for tid, links in self.state.tag_external_repos.items():
            if tag_id is not None and tid != tag_id:
                continue
            for rid, link in links.items():
                if repo_id is not None and rid != repo_id:
                    continue
                repo = self.state.external_repos[rid]
                result.append({'external_repo_id': rid, 'external_repo_name': repo['name'],
                               'priority': link['priority'], 'tag_id': tid,
                               'tag_name': self.state.tags[tid]['name'], 'url': repo['url'],
                               'merge_mode': link['merge_mode'], 'arches': link['arches']})
        return sorted(result, key=lambda r: r['priority'])

    def addExternalRepoToTag(self, tag_info, repo_info, priority, merge_mode='koji',
                             arches=None):
        self._assert_perm('tag')
        if merge_mode is None:
            merge_mode = 'koji'
        if merge_mode not in REPO_MERGE_MODES:
            raise koji.GenericError('No such merge mode: %s' % merge_mode)
        tag = self._tag(tag_info)
        repo = self._repo(repo_info)
        if arches is not None:
            arches = parse_arches(arches, strict=True)
        try:
            priority = int(priority)
        except (TypeError, ValueError):
            raise koji.ParameterError('Invalid type for value %r: %s, expected type int'
                                      % (priority, type(priority)))
        links = self.state.tag_external_repos.setdefault(tag['id'], {})
        if repo['id'] in links:
            raise koji.GenericError('tag %s already associated with external repo %s'
                                    % (tag['name'], repo['name']))
        if [link for link in links.values() if link['priority'] == priority]:
            raise koji.GenericError('tag %s already associated with an external repo at '
                                    'priority %i' % (tag['name'], priority))
        self._write()
        links[repo['id']] = {'priority': priority, 'merge_mode': merge_mode, 'arches': arches}

    def removeExternalRepoFromTag(self, tag_info, repo_info):
        self._assert_perm('tag')
        tag = self._tag(tag_info)
        repo = self._repo(repo_info)
        links = self.state.tag_external_repos.get(tag['id'], {})
        if repo['id'] not in links:
            raise koji.GenericError('external repo %s not associated with tag %s'
                                    % (repo['name'], tag['name']))
        self._write()
        del links[repo['id']]

    def editTagExternalRepo(self, tag_info, repo_info, priority=None, merge_mode=None,
                            arches=None):
        self._assert_perm('tag')
        tag = self._tag(tag_info)
        repo = self._repo(repo_info)
        links = self.state.tag_external_repos.get(tag['id'], {})
        if repo['id'] not in links:
            raise koji.GenericError('external repo %s not associated with tag %s'
                                    % (repo['name'], tag['name']))
        link = links[repo['id']]
        if arches is not None:
            arches = parse_arches(arches, strict=True)
        data = {}
        for key, val in (('priority', priority), ('merge_mode', merge_mode),
                         ('arches', arches)):
            if val is not None and val != link[key]:
                data[key] = val
        if not data:
            return False
        for key in ('priority', 'merge_mode', 'arches'):
            data.setdefault(key, link[key])
        if data['merge_mode'] not in REPO_MERGE_MODES:
            raise koji.GenericError('No such merge mode: %s' % data['merge_mode'])
        if [other for rid, other in links.items()
                if rid != repo['id'] and other['priority'] == data['priority']]:
            raise koji.GenericError('tag %s already associated with an external repo at '
                                    'priority %i' % (tag['name'], data['priority']))
        self._write()
        links[repo['id']] = data
        return True
