"""Stand-in for the get-pip bootstrap ansible-test downloads (unreachable here).

ansible-test runs ``python get_pip.py [pip args]`` to seed the virtual environments of its sanity
tests, the args naming the pip it wants (``pip==24.2``). This does the same offline, in one install:
pip runs from the interpreter's bundled wheel (as get-pip runs it from its embedded copy) and installs
what was asked from the package index pip is configured for. A cold ``make test`` seeds about twenty
of these environments; installing the bundled pip first and then replacing it cost a second install
(and setuptools, which --no-setuptools asks not to install) in each. Without a bundled wheel (a Python
built without ensurepip's wheels) it falls back to ensurepip, then the install.
"""
import glob
import os
import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
if not any(a == "pip" or a.startswith(("pip=", "pip<", "pip>", "pip~", "pip!")) for a in args):
    args.append("pip")  # get-pip always installs pip
try:
    import ensurepip
    wheels = sorted(glob.glob(os.path.join(os.path.dirname(ensurepip.__file__), "_bundled", "pip-*.whl")))
except ImportError:
    wheels = []
if wheels:
    subprocess.check_call([sys.executable, os.path.join(wheels[-1], "pip"), "install"] + args)
else:
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
    subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)
