"""The `hubs` scenario's shape (molecule/hubs), shared by the koji_lb and several-hubs tests:
two hubs and two web hosts behind a load balancer that answers two names."""

TWO_HUBS = {
    "koji_lb": ["koji.kojihubs.test"],
    "koji_db": ["db.kojihubs.test"],
    "koji_hub": ["hub1.kojihubs.test", "hub2.kojihubs.test"],
    "koji_web": ["web1.kojihubs.test", "web2.kojihubs.test"],
    "kojira": ["db.kojihubs.test"],
    "koji_builders": ["builder1.kojihubs.test"],
}
SITE_URLS = {"koji_hub_url": "https://koji.kojihubs.test/kojihub", "koji_web_url": "https://kojiweb.kojihubs.test/koji"}
