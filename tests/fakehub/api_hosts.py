"""Hosts and their channels.

A mixin of the fake hub's HubAPI (api.py)."""

import koji

from .api_common import USER_NAME_RE, apply_query_opts, parse_arches, verify_name


class HostCalls(object):

    # ---- hosts ----------------------------------------------------------------------
    def getHost(self, hostInfo, strict=False, event=None):
        host = self._host(hostInfo, strict=strict)
        return self.state.host_info(host) if host else None

    def listHosts(self, arches=None, channelID=None, ready=None, enabled=None, userID=None,
                  queryOpts=None):
        hosts = [self.state.hosts[hid] for hid in sorted(self.state.hosts)]
        if arches is not None:
            if not arches:
                raise koji.GenericError('arches option cannot be empty')
            if not isinstance(arches, (list, tuple)):
                arches = [arches]
            hosts = [h for h in hosts if set((h['arches'] or '').split()) & set(arches)]
        if channelID is not None:
            channel = self.state.find_channel(channelID)
            if channel is None:
                raise koji.GenericError('No such channels: %s' % (channelID,))
            hosts = [h for h in hosts
                     if channel['id'] in self.state.host_channels.get(h['id'], ())]
        if ready is not None:
            hosts = [h for h in hosts if bool(h['ready']) == bool(ready)]
        if enabled is not None:
            hosts = [h for h in hosts if bool(h['enabled']) == bool(enabled)]
        if userID is not None:
            uid = self._user(userID)['id']
            hosts = [h for h in hosts if h['user_id'] == uid]
        return apply_query_opts([self.state.host_info(h) for h in hosts], queryOpts)

    def addHost(self, hostname, arches, krb_principal=None, force=False):
        self._assert_perm('host')
        verify_name(hostname)
        verify_name(hostname, USER_NAME_RE)
        arches = parse_arches(' '.join(arches), strict=True)
        if self.state.find_host(hostname):
            raise koji.GenericError('host already exists: %s' % hostname)
        default = self.state.find_channel('default')
        if default is None:
            raise koji.GenericError('No default channel')
        user = self.state.find_user(hostname)
        if user and user['usertype'] != koji.USERTYPES['HOST']:
            if not (force and user['usertype'] == koji.USERTYPES['NORMAL']):
                raise koji.GenericError('user %s already exists and it is not a host'
                                        % hostname)
        self._write()
        if user:
            user['usertype'] = koji.USERTYPES['HOST']
            uid = user['id']
        else:
            uid = self.state.add_user(hostname, usertype=koji.USERTYPES['HOST'],
                                      krb_principal=krb_principal)
        hid = self.state._next_id('host')
        self.state.hosts[hid] = {'id': hid, 'user_id': uid, 'name': hostname,
                                 'update_ts': None, 'ready': False, 'task_load': 0.0,
                                 'arches': arches, 'capacity': 2.0, 'description': None,
                                 'comment': None, 'enabled': True}
        self.state.host_channels[hid] = set([default['id']])
        return hid

    def editHost(self, hostInfo, **kw):
        self._assert_perm('host')
        host = self._host(hostInfo)
        changes = [f for f in ('arches', 'capacity', 'description', 'comment')
                   if f in kw and kw[f] != host[f]]
        if not changes:
            return False
        for field in changes:
            if field in ('description', 'comment', 'arches') and not isinstance(kw[field], str):
                raise koji.ParameterError('Invalid type for value %r' % (kw[field],))
        if 'capacity' in changes and float(kw['capacity']) <= 1:
            raise koji.GenericError('new row for relation "host_config" violates check '
                                    'constraint "host_config_capacity_check"')
        self._write()
        for field in changes:
            host[field] = float(kw[field]) if field == 'capacity' else kw[field]
        return True

    def _set_host_enabled(self, hostname, enabled):
        self._assert_perm('host')
        host = self.state.find_host(hostname)
        if not host:
            raise koji.GenericError('host does not exist: %s' % hostname)
        self._write()
        host['enabled'] = enabled

    def enableHost(self, hostname):
        self._set_host_enabled(hostname, True)

    def disableHost(self, hostname):
        self._set_host_enabled(hostname, False)

    def addHostToChannel(self, hostname, channel_name, create=False, force=False):
        self._assert_perm('host')
        host = self.state.find_host(hostname)
        if host is None:
            raise koji.GenericError('host does not exist: %s' % hostname)
        if create:
            verify_name(channel_name)
        channel = self.state.find_channel(channel_name)
        if channel is None and not create:
            raise koji.GenericError('channel does not exist: %s' % channel_name)
        if channel is not None:
            if not force and not channel['enabled']:
                raise koji.GenericError('channel %s is disabled' % channel_name)
            if channel['id'] in self.state.host_channels[host['id']]:
                raise koji.GenericError('host %s is already subscribed to the %s channel'
                                        % (hostname, channel_name))
            cid = channel['id']
        else:
            cid = self.state.add_channel(channel_name)
        self._write()
        self.state.host_channels[host['id']].add(cid)

    def removeHostFromChannel(self, hostname, channel_name):
        self._assert_perm('host')
        host = self.state.find_host(hostname)
        if host is None:
            raise koji.GenericError('host does not exist: %s' % hostname)
        channel = self.state.find_channel(channel_name)
        if channel is None:
            raise koji.GenericError('channel does not exist: %s' % channel_name)
        if channel['id'] not in self.state.host_channels[host['id']]:
            raise koji.GenericError('host %s is not subscribed to the %s channel'
                                    % (hostname, channel_name))
        self._write()
        self.state.host_channels[host['id']].discard(channel['id'])
