# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Table 5, TLS and auth: an HTTPS simulator (--tls-cert/--tls-key) whose certificate a
throw-away CA (trustme) signed for 127.0.0.1 only, and which requires a token (--token).

- default verification without the CA fails clearly (names ca_path / validate_certs);
- ``ca_path`` (or TOS_CA_PATH) makes it work; ``validate_certs: false`` works and warns;
- a missing or wrong token fails with an authentication error naming api_token/TOS_API_TOKEN,
  and a refused write changes nothing.
"""

from __future__ import annotations

import pytest
import relib
import trustme

TOKEN = "tok-TLS-RELIABILITY-0b9d7e"

CLUSTER_A = {"name": "rel-a", "seed": relib.SEEDS["a"],
             "cvms": [{"host": "tos-a1", "address": "192.0.2.101/24", "gateway": "192.0.2.1"}]}


@pytest.fixture(scope="module")
def pki():
    dir = relib.workdir("tls-pki")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    ca.cert_pem.write_to_path(str(dir / "ca.pem"))
    cert.private_key_pem.write_to_path(str(dir / "server.key"))
    cert.cert_chain_pems[0].write_to_path(str(dir / "server.pem"))
    for extra in cert.cert_chain_pems[1:]:
        with open(dir / "server.pem", "ab") as fh:
            fh.write(extra.bytes())
    other = trustme.CA()
    other.cert_pem.write_to_path(str(dir / "other-ca.pem"))
    return {"ca": str(dir / "ca.pem"), "cert": str(dir / "server.pem"), "key": str(dir / "server.key"),
            "other_ca": str(dir / "other-ca.pem"), "dir": dir}


@pytest.fixture(scope="module")
def tls_sim(pki):
    s = relib.Sim("tls", token=TOKEN, tls_cert=pki["cert"], tls_key=pki["key"]).start()
    assert s.url.startswith("https://127.0.0.1:"), s.url
    yield s
    s.stop()


def cases(url, pki):
    """(id, module, params, environment, expectation)."""
    localhost = url.replace("127.0.0.1", "localhost")
    plain = url.replace("https://", "http://")
    ok_cluster = {"name": "rel-tls", "ip": relib.SEEDS["b"]}
    return [
        ("default-verify-fails", "system_info", {"api_url": url, "api_token": TOKEN}, None, "tls"),
        ("ca-path-works", "system_info", {"api_url": url, "api_token": TOKEN, "ca_path": pki["ca"]}, None, "ok"),
        ("ca-path-env-works", "system_info", {"api_url": url, "api_token": TOKEN}, {"TOS_CA_PATH": pki["ca"]}, "ok"),
        ("no-verify-works-and-warns", "system_info", {"api_url": url, "api_token": TOKEN, "validate_certs": False},
         None, "warn"),
        ("no-verify-env-works-and-warns", "system_info", {"api_url": url, "api_token": TOKEN},
         {"TOS_VALIDATE_CERTS": "false"}, "warn"),
        ("other-ca-fails", "system_info", {"api_url": url, "api_token": TOKEN, "ca_path": pki["other_ca"]}, None, "tls"),
        ("hostname-mismatch-fails", "system_info", {"api_url": localhost, "api_token": TOKEN, "ca_path": pki["ca"]},
         None, "tls"),
        ("ca-path-missing-file", "system_info",
         {"api_url": url, "api_token": TOKEN, "ca_path": str(pki["dir"] / "missing.pem")}, None, "ca_path"),
        ("plain-http-to-https", "system_info", {"api_url": plain, "api_token": TOKEN}, None, "fail"),
        ("token-missing", "system_info", {"api_url": url, "ca_path": pki["ca"]}, None, "auth"),
        ("token-wrong", "system_info", {"api_url": url, "ca_path": pki["ca"], "api_token": "nope"}, None, "auth"),
        ("token-env-works", "system_info", {"api_url": url, "ca_path": pki["ca"]}, {"TOS_API_TOKEN": TOKEN}, "ok"),
        ("token-env-wrong", "system_info", {"api_url": url, "ca_path": pki["ca"]}, {"TOS_API_TOKEN": "nope"}, "auth"),
        ("token-missing-on-write", "cluster", dict(ok_cluster, api_url=url, ca_path=pki["ca"]), None, "auth"),
        ("token-wrong-on-info", "cluster_info", {"api_url": url, "ca_path": pki["ca"], "api_token": "nope"}, None, "auth"),
        ("write-with-ca-and-token", "cluster", dict(ok_cluster, api_url=url, ca_path=pki["ca"], api_token=TOKEN),
         None, "ok"),
        ("write-no-verify", "cvm", {"api_url": url, "validate_certs": False, "api_token": TOKEN, "cluster": "rel-a",
                                    "host": "tos-a2", "address": "192.0.2.102/24", "gateway": "192.0.2.1"}, None, "warn"),
        ("url-list-env", "system_info", {}, {"TOS_API_URL": url, "TOS_API_TOKEN": TOKEN, "TOS_CA_PATH": pki["ca"]}, "ok"),
    ] + blank_cases(url, pki)


# A blank connection option counts as unset, from any source (an AWX credential injects an empty field as "", an
# unanswered survey question passed through module_defaults gives ""): the next source or the default applies, so
# validate_certs stays true. "tls" proves that the certificate is verified (no CA given), "ok" that the CA or
# token from the next source was used. The cases with an environment run as a module process, the others
# in-process.
BLANKS = ("", " ", "\n", "\t ")


def blank_cases(url, pki):
    out = []
    for i, text in enumerate(BLANKS):
        every = {"TOS_VALIDATE_CERTS": text, "TOS_CA_PATH": text, "TOS_TIMEOUT": text}
        out += [
            ("blank-env-verifies-%d" % i, "system_info", {"api_url": url, "api_token": TOKEN}, every, "tls"),
            ("blank-env-then-ca-%d" % i, "system_info", {"api_url": url, "api_token": TOKEN},
             dict(every, TOS_CA_PATH=pki["ca"]), "ok"),
            ("blank-options-then-env-%d" % i, "system_info",
             {"api_url": url, "api_token": text, "validate_certs": text, "ca_path": text, "timeout": text},
             {"TOS_API_TOKEN": TOKEN, "TOS_CA_PATH": pki["ca"], "TOS_TIMEOUT": text}, "ok"),
            ("blank-options-verify-%d" % i, "system_info",
             {"api_url": url, "api_token": TOKEN, "validate_certs": text, "ca_path": text, "timeout": text}, None, "tls"),
            ("blank-options-with-ca-%d" % i, "system_info",
             {"api_url": url, "api_token": TOKEN, "validate_certs": text, "ca_path": pki["ca"], "timeout": text},
             None, "ok"),
        ]
    return out


@pytest.fixture(scope="module")
def tls_run(tls_sim, pki):
    fixture = str(relib.write_fixture(pki["dir"] / "a.yml", clusters=[CLUSTER_A]))
    batch = relib.Batch(tls_sim.url)
    for cid, module, params, environment, _expect in cases(tls_sim.url, pki):
        task = relib.module_task(cid, module, params)
        if environment:
            task["environment"] = environment
        batch.case(cid, [task], pre={"reset": fixture})
    # no module_defaults: every case gives its own connection
    return batch.run(relib.workdir("tls-run"), module_defaults_={})


@pytest.fixture(scope="module")
def case_table(tls_sim, pki):
    return {c[0]: c for c in cases(tls_sim.url, pki)}


CASE_IDS = ["default-verify-fails", "ca-path-works", "ca-path-env-works", "no-verify-works-and-warns",
            "no-verify-env-works-and-warns", "other-ca-fails", "hostname-mismatch-fails", "ca-path-missing-file",
            "plain-http-to-https", "token-missing", "token-wrong", "token-env-works", "token-env-wrong",
            "token-missing-on-write", "token-wrong-on-info", "write-with-ca-and-token", "write-no-verify", "url-list-env"] + [
    "blank-%s-%d" % (kind, i) for i in range(len(BLANKS))
    for kind in ("env-verifies", "env-then-ca", "options-then-env", "options-verify", "options-with-ca")]


class TestTlsAuth:
    @pytest.mark.parametrize("cid", CASE_IDS)
    def test_tls_auth(self, tls_run, case_table, cid):
        _cid, module, params, _env, expect = case_table[cid]
        result = tls_run.result(cid)
        end = tls_run.end(cid)
        relib.assert_no_traceback(result)
        msg = relib.failure_text(result)
        warnings = " ".join(str(w) for w in result.get("warnings") or [])
        if expect == "ok":
            assert not result.get("failed"), msg
            assert "validate_certs" not in warnings, warnings
        elif expect == "warn":
            assert not result.get("failed"), msg
            assert "validate_certs" in warnings, "no warning that certificates are not verified: %r" % warnings
        elif expect == "tls":
            relib.assert_clean_failure(result, words=("TLS", "ca_path", "validate_certs"))
        elif expect == "ca_path":
            relib.assert_clean_failure(result, words=("ca_path",))
        elif expect == "auth":
            relib.assert_clean_failure(result, words=("authentication", "api_token", "TOS_API_TOKEN"))
            assert "nope" not in msg and TOKEN not in msg, msg
            assert not [m for m in end["mutations"] if m.get("code") == 0], end["mutations"]
        else:
            relib.assert_clean_failure(result)
        if module in ("cluster", "cvm") and expect in ("ok", "warn"):
            assert len(end["mutations"]) >= 1 and result.get("changed"), end["mutations"]
