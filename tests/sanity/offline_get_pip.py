"""Stand-in for the get-pip.py script ansible-test downloads to bootstrap pip in its venvs.

ansible-test fetches that script from its own CI file host, which our machines cannot reach;
it looks in ~/.ansible/test/cache/get_pip_<version>.py first, where `make sanity` puts this file.
It does the same job from what is reachable: Python's bundled pip (ensurepip), then the pip
version and packages ansible-test asks for, from the package index.

ansible-test runs it as a script with pip options and requirement specifiers as arguments,
plus --no-setuptools / --no-wheel, which only get-pip.py understands.
"""

import subprocess
import sys


def main():
    # In a child process: ensurepip.bootstrap() sets PIP_CONFIG_FILE=/dev/null in its own
    # environment, which would hide the machine's pip configuration (index, certificates) from
    # the install below.
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"], stdout=subprocess.DEVNULL)
    args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet"] + args)


if __name__ == "__main__":
    main()
