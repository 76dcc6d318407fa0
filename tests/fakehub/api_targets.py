"""Build targets.

A mixin of the fake hub's HubAPI (api.py)."""

import koji

from .api_common import apply_query_opts, verify_name


class TargetCalls(object):

    # ---- build targets ------------------------------------------------------------------
    def _target_info(self, target):
        return {'id': target['id'], 'name': target['name'],
                'build_tag': target['build_tag'], 'dest_tag': target['dest_tag'],
                'build_tag_name': self.state.tags[target['build_tag']]['name'],
                'dest_tag_name': self.state.tags[target['dest_tag']]['name']}

    def getBuildTargets(self, info=None, event=None, buildTagID=None, destTagID=None,
                        queryOpts=None):
        result = []
        found = self.state.find_target(info) if info else None
        build_id = dest_id = None
        if buildTagID is not None:
            tag = self.state.find_tag(buildTagID)
            build_id = tag['id'] if tag else -1
        if destTagID is not None:
            tag = self.state.find_tag(destTagID)
            dest_id = tag['id'] if tag else -1
        for target in [self.state.targets[tid] for tid in sorted(self.state.targets)]:
            if info and (not found or found['id'] != target['id']):
                continue
            if build_id is not None and target['build_tag'] != build_id:
                continue
            if dest_id is not None and target['dest_tag'] != dest_id:
                continue
            result.append(self._target_info(target))
        return apply_query_opts(result, queryOpts)

    def getBuildTarget(self, info, event=None, strict=False):
        targets = self.getBuildTargets(info=info)
        if len(targets) == 1:
            return targets[0]
        if strict:
            raise koji.GenericError('No such build target: %s' % info)
        return None

    def createBuildTarget(self, name, build_tag, dest_tag):
        self._assert_perm('target')
        verify_name(name)
        if self.state.find_target(name):
            raise koji.GenericError("A build target with the name '%s' already exists" % name)
        btag = self.state.find_tag(build_tag)
        if not btag:
            raise koji.GenericError("build tag '%s' does not exist" % build_tag)
        dtag = self.state.find_tag(dest_tag)
        if not dtag:
            raise koji.GenericError("destination tag '%s' does not exist" % dest_tag)
        self._write()
        tid = self.state._next_id('target')
        self.state.targets[tid] = {'id': tid, 'name': name, 'build_tag': btag['id'],
                                   'dest_tag': dtag['id']}
        return None

    def editBuildTarget(self, buildTargetInfo, name, build_tag, dest_tag):
        self._assert_perm('target')
        verify_name(name)
        target = self.state.find_target(buildTargetInfo)
        if not target:
            raise koji.GenericError('No such build target: %s' % buildTargetInfo)
        btag = self.state.find_tag(build_tag)
        if not btag:
            raise koji.GenericError("build tag '%s' does not exist" % build_tag)
        dtag = self.state.find_tag(dest_tag)
        if not dtag:
            raise koji.GenericError("destination tag '%s' does not exist" % dest_tag)
        if target['name'] != name:
            other = self.state.find_target(name)
            if other:
                raise koji.GenericError('name "%s" is already taken by build target %i'
                                        % (name, other['id']))
        # the hub revokes and re-inserts the config even when nothing changed
        self._write()
        target.update({'name': name, 'build_tag': btag['id'], 'dest_tag': dtag['id']})
        self.state.reindex()
        return None

    def deleteBuildTarget(self, buildTargetInfo):
        self._assert_perm('target')
        target = self.state.find_target(buildTargetInfo)
        if not target:
            raise koji.GenericError('No such build target: %s' % buildTargetInfo)
        self._write()
        del self.state.targets[target['id']]
        return None
