"""The hub calls a fake Koji hub answers, with the real hub's arguments, result shapes,
checks and errors (koji 1.35), for the objects the kojiforge.koji modules manage.

Every public method of HubAPI (of its mixins, api_<objects>.py) is an XML-RPC method of
the fake hub. ``self.ctx`` is the context of the current call (logged-in user, event).
Handlers check everything they can before they change anything, so a call that raises
leaves the state untouched (the real hub rolls such a call back to its savepoint).
"""

from .api_channels import ChannelCalls
from .api_common import CommonCalls
from .api_external_repos import ExternalRepoCalls
from .api_groups import GroupCalls
from .api_history import HistoryCalls
from .api_hosts import HostCalls
from .api_packages import PackageCalls
from .api_tags import TagCalls
from .api_targets import TargetCalls
from .api_users import UserCalls


class HubAPI(CommonCalls, TagCalls, HistoryCalls, ExternalRepoCalls, PackageCalls, GroupCalls,
             TargetCalls, ChannelCalls, HostCalls, UserCalls):
    """Every call the fake hub answers, one mixin per kind of object (api_<objects>.py)."""
