# -*- coding: utf-8 -*-
# Copyright: kojiforge.koji contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The error every kojiforge.koji module reports through fail_json."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class KojiModuleError(Exception):
    """A failure to report through fail_json, with extra result keys."""

    def __init__(self, msg, **extra):
        super(KojiModuleError, self).__init__(msg)
        self.msg = msg
        self.extra = extra
