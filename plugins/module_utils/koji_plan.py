# -*- coding: utf-8 -*-
# Copyright: kojiforge.koji contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A module's plan: the hub calls a request needs, by phase, and what changes per
object (the ``changes`` and ``diff`` a module returns)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class Write:
    """One hub call of a plan. ``args`` may hold callables, resolved just before the
    call is sent (for ids of objects created in an earlier phase)."""

    def __init__(self, phase, obj_type, obj_name, description, method, args, kwargs,
                 on_result=None):
        self.phase = phase
        self.obj_type = obj_type
        self.obj_name = obj_name
        self.description = description
        self.method = method
        self.args = args
        self.kwargs = kwargs
        self.on_result = on_result

    def resolved(self):
        args = [arg() if callable(arg) else arg for arg in self.args]
        kwargs = dict((key, value() if callable(value) else value)
                      for key, value in self.kwargs.items())
        return self.method, args, kwargs

    def summary(self):
        return {'type': self.obj_type, 'name': self.obj_name, 'change': self.description}


class Plan:
    """The writes a request needs, by phase, and what changes per object."""

    def __init__(self):
        self.writes = []
        self.objects = {}
        self.order = []
        # result keys a module returns besides the changes (koji_external_repo's urls)
        self.extra_result = {}

    def object_change(self, obj_type, name, action, before=None, after=None):
        key = (obj_type, name)
        if key not in self.objects:
            self.objects[key] = {'type': obj_type, 'name': name, 'action': action,
                                 'changes': [], 'before': before, 'after': after}
            self.order.append(key)
        return self.objects[key]

    def add(self, _phase, _type, _name, _summary, _method, *args, **kwargs):
        """Add the hub call ``_method(*args, **kwargs)`` to phase ``_phase``, described
        by ``_summary`` in the changes of object ``_type`` ``_name``. (Underscored
        parameters, so hub keyword arguments such as ``description`` pass through.)"""
        on_result = kwargs.pop('_on_result', None)
        self.writes.append(Write(_phase, _type, _name, _summary, _method, list(args),
                                 kwargs, on_result))
        if (_type, _name) not in self.objects:
            self.object_change(_type, _name, 'update')
        self.objects[(_type, _name)]['changes'].append(_summary)

    def note(self, obj_type, name, description, action='update'):
        """A change that needs no call of its own (e.g. implied by a create)."""
        self.object_change(obj_type, name, action)['changes'].append(description)

    @property
    def changed(self):
        return bool(self.order)

    def changes(self):
        result = []
        for key in self.order:
            obj = self.objects[key]
            result.append({'type': obj['type'], 'name': obj['name'], 'action': obj['action'],
                           'changes': list(obj['changes'])})
        return result

    def diff(self):
        result = []
        for key in self.order:
            obj = self.objects[key]
            label = '%s %s' % (obj['type'], obj['name'])
            result.append({'before_header': label, 'after_header': label,
                           'before': obj['before'] if obj['before'] is not None else {},
                           'after': obj['after'] if obj['after'] is not None else {}})
        return result
