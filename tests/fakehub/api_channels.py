"""Channels.

A mixin of the fake hub's HubAPI (api.py)."""

import koji

from .api_common import verify_name


class ChannelCalls(object):

    # ---- channels -----------------------------------------------------------------------
    def getChannel(self, channelInfo, strict=False):
        channel = self.state.find_channel(channelInfo)
        if channel is None:
            if strict:
                raise koji.GenericError('No such channel: %s' % (channelInfo,))
            return None
        return self.state.channel_info(channel)

    def listChannels(self, hostID=None, event=None, enabled=None):
        if hostID:
            if isinstance(hostID, str):
                hostID = self._host(hostID)['id']
            ids = self.state.host_channels.get(hostID, set())
            channels = [self.state.channels[cid] for cid in sorted(ids)]
        elif event:
            raise koji.GenericError('list_channels with event and not host is not allowed.')
        else:
            channels = [self.state.channels[cid] for cid in sorted(self.state.channels)]
        if enabled is not None:
            channels = [c for c in channels if bool(c['enabled']) == bool(enabled)]
        return [self.state.channel_info(c) for c in channels]

    def addChannel(self, channel_name, description=None):
        self._assert_perm('admin')
        verify_name(channel_name)
        if description is not None and not isinstance(description, str):
            raise koji.ParameterError('Channel description must be a string')
        dup = self.state.find_channel(channel_name)
        if dup:
            raise koji.GenericError('channel %(name)s already exists (id=%(id)i)' % dup)
        self._touch()
        return self.state.add_channel(channel_name, description=description)

    def editChannel(self, channelInfo, **kw):
        self._assert_perm('admin')
        channel = self.state.find_channel(channelInfo)
        if channel is None:
            raise koji.GenericError('No such channel: %s' % (channelInfo,))
        changes = [f for f in ('description', 'comment', 'name')
                   if f in kw and kw[f] != channel[f]]
        if not changes:
            return False
        if kw.get('name'):
            verify_name(kw['name'])
            dup = self.state.find_channel(kw['name'])
            if dup:
                raise koji.GenericError('channel %(name)s already exists (id=%(id)i)' % dup)
        for field in ('description', 'comment'):
            if field in kw and not isinstance(kw[field], str):
                raise koji.ParameterError('Invalid type for value %r' % (kw[field],))
        self._touch()
        for field in changes:
            channel[field] = kw[field]
        self.state.reindex()
        return True

    def _set_channel_enabled(self, channelname, enabled, comment):
        self._assert_perm('host')
        channel = self.state.find_channel(channelname)
        if not channel:
            raise koji.GenericError('No such channel: %s' % channelname)
        self._touch()
        channel['enabled'] = enabled
        if comment is not None:
            channel['comment'] = comment

    def enableChannel(self, channelname, comment=None):
        self._set_channel_enabled(channelname, True, comment)

    def disableChannel(self, channelname, comment=None):
        self._set_channel_enabled(channelname, False, comment)

    def removeChannel(self, channel_name, force=False):
        raise koji.GenericError('Invalid method: removeChannel')
