"""Stand-in for the get-pip.py script ansible-test downloads to bootstrap pip in its venvs.

ansible-test fetches that script from its own CI file host, which our machines cannot reach;
it looks in ~/.ansible/test/cache/get_pip_<version>.py first, where `make sanity` puts this file.
It does the same job from what is reachable: Python's bundled pip (ensurepip), then the pip
version and packages ansible-test asks for, from the package index.

ansible-test runs it as a script with pip options and requirement specifiers as arguments,
plus --no-setuptools / --no-wheel, which only get-pip.py understands.
"""

import ensurepip
import subprocess
import sys


def main():
    ensurepip.bootstrap(upgrade=True)
    args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet"] + args)


if __name__ == "__main__":
    main()
