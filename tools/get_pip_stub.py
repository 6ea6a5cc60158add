"""Stand-in for the get-pip bootstrap ansible-test downloads (unreachable here).

ansible-test runs ``python get_pip.py [pip args]`` to seed the virtual environments of its sanity
tests. This does the same offline: bootstrap pip from the interpreter's bundled wheel, then let pip
install what was asked (from the package index pip is configured for).
"""
import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
if args:
    subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)
