"""Which tag an open task works on, read from its decoded request.

``listTasks`` cannot filter or group by tag, so the ``tag`` label of ``koji_in_progress_tasks``
comes from each open task's request parameters. Only open tasks are decoded: there are at most a
few per builder, whereas waiting and finished tasks can number in the thousands.
"""

TAG = 'tag'
TARGET = 'target'

# method -> (position, keyword name, what the parameter names), from kojid's task handlers.
TAG_PARAMETERS = {
    'build': (1, 'target', TARGET),
    'chainbuild': (1, 'target', TARGET),
    'maven': (1, 'target', TARGET),
    'chainmaven': (1, 'target', TARGET),
    'wrapperRPM': (1, 'build_target', TARGET),
    'image': (3, 'target', TARGET),
    'appliance': (3, 'target', TARGET),
    'livecd': (3, 'target', TARGET),
    'livemedia': (3, 'target', TARGET),
    'dudBuild': (3, 'target', TARGET),
    'kiwiBuild': (0, 'target', TARGET),
    'createImage': (4, 'target_info', TARGET),
    'createAppliance': (4, 'target_info', TARGET),
    'createLiveCD': (4, 'target_info', TARGET),
    'createLiveMedia': (4, 'target_info', TARGET),
    'buildArch': (1, 'root', TAG),
    'buildMaven': (1, 'build_tag', TAG),
    'rebuildSRPM': (1, 'build_tag', TAG),
    'buildSRPMFromSCM': (1, 'build_tag', TAG),
    'runroot': (0, 'root', TAG),
    'tagBuild': (0, 'tag_id', TAG),
    'newRepo': (0, 'tag', TAG),
    'distRepo': (0, 'tag', TAG),
    'createdistrepo': (0, 'tag', TAG),
    'waitrepo': (0, 'tag', TAG),
}


def _split_request(request):
    """Positional parameters and keyword parameters of a decoded request (koji.encode_args)."""
    if not isinstance(request, (list, tuple)):
        return (), {}
    args = tuple(request)
    if args and isinstance(args[-1], dict) and args[-1].get('__starstar'):
        return args[:-1], args[-1]
    return args, {}


def _parameter(request, position, keyword):
    args, kwargs = _split_request(request)
    if position < len(args):
        return args[position]
    return kwargs.get(keyword)


def task_tag(method, request, tag_names, target_tags):
    """Name of the tag an open task works on, or '' when its method names none.

    ``tag_names`` maps tag ids to names, ``target_tags`` build target names to their
    destination tag names; both come from the background cache and may still be empty, in
    which case the raw id or target name is used.
    """
    where = TAG_PARAMETERS.get(method)
    if where is None:
        return ''
    position, keyword, kind = where
    value = _parameter(request, position, keyword)
    if isinstance(value, dict):
        if kind == TARGET:
            value = value.get('dest_tag_name') or value.get('name')
        else:
            value = value.get('name') or value.get('id')
    elif kind == TARGET and isinstance(value, str):
        value = target_tags.get(value, value)
    if isinstance(value, bool) or value is None:
        return ''
    if isinstance(value, int):
        return tag_names.get(value, str(value))
    return str(value)
