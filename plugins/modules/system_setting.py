#!/usr/bin/python
# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: system_setting
short_description: Configure the manager's login, password and IP access control policies
version_added: 0.1.0
description:
  - Reads the system settings (C(/v1/system/setting/inspect)) and updates the login policy, the password complexity
    policy and the IP access control policy (C(/v1/system/setting/update)) when they differ from what is asked.
  - Options you leave unset keep their current value; the three policies are always sent whole.
  - The mail settings, which the same endpoints carry, are left alone; use M(tos.cloud.mail_setting) for them.
author:
  - tos.cloud maintainers (@tos-cloud)
extends_documentation_fragment:
  - tos.cloud.connection
  - tos.cloud.attributes
  - tos.cloud.attributes.API
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
options:
  cluster:
    description:
      - Name or UUID of a cluster. The settings are system-wide, but the API wants a cluster to address them
        through; any cluster gives the same result.
      - Defaults to the first cluster the manager lists. The module fails when there is no cluster at all.
    type: str
  login_policy:
    description: How logins are limited.
    type: dict
    suboptions:
      login_fail_retry_times:
        description: Failed logins allowed before the account is locked out for a while; V(0) for no limit.
        type: int
      login_fail_punish_seconds:
        description: How long, in seconds, a locked-out account must wait.
        type: int
      token_expire_seconds:
        description: Lifetime of a login token, in seconds (at least 60; API field C(token_expire_second)).
        type: int
  password_policy:
    description: The password complexity policy (API object C(password_complexity_policy)).
    type: dict
    aliases: [password_complexity_policy]
    suboptions:
      minimum_length:
        description: Shortest password allowed (at least 1).
        type: int
      must_include_special_char:
        description: Whether a password must contain a special character.
        type: bool
      max_expired_age:
        description: Days after which a password expires; V(0) for never.
        type: int
      expired_warn_age:
        description:
          - Days before expiry that users are warned; V(0) for no warning.
          - Must not exceed O(password_policy.max_expired_age) when that is not V(0).
        type: int
      expire_force_modify:
        description: Whether an expired password must be changed at the next login.
        type: bool
      expired_warn_windows_popup:
        description: Whether the expiry warning shows as a pop-up.
        type: bool
      expired_warn_email_notify:
        description: Whether the expiry warning is also mailed.
        type: bool
      notify_user_password_when_create:
        description: Whether new users are mailed their password.
        type: bool
  access_control:
    description: The IP access control policy (API object C(access_control_policy.ip_access_control_policy)).
    type: dict
    suboptions:
      enabled:
        description:
          - Whether the policy applies.
          - An enabled whitelist needs at least one range, or every client would be locked out.
        type: bool
      mode:
        description: V(whitelist) lets only the O(access_control.ip_ranges) in; V(blacklist) keeps them out.
        type: str
        choices: [whitelist, blacklist]
      ip_ranges:
        description:
          - The ranges, each an address (V(192.0.2.7)), a network (V(192.0.2.0/24), its first to last address) or a
            range (V(192.0.2.10-192.0.2.20)).
          - The whole list is enforced (an empty list removes every range); order does not matter.
        type: list
        elements: str
"""

EXAMPLES = r"""
- name: Lock accounts for 10 minutes after 5 failed logins, tokens valid for a day
  tos.cloud.system_setting:
    api_url: http://127.0.0.1:9990
    login_policy:
      login_fail_retry_times: 5
      login_fail_punish_seconds: 600
      token_expire_seconds: 86400

- name: Require 12 characters with a special one, passwords expire after 90 days
  tos.cloud.system_setting:
    api_url: http://127.0.0.1:9990
    password_policy:
      minimum_length: 12
      must_include_special_char: true
      max_expired_age: 90
      expired_warn_age: 7

- name: Only let the admin networks reach the manager
  tos.cloud.system_setting:
    api_url: http://127.0.0.1:9990
    access_control:
      enabled: true
      mode: whitelist
      ip_ranges:
        - 192.0.2.0/24
        - 198.51.100.10-198.51.100.20
"""

RETURN = r"""
settings:
  description: The three policies after the change (in check mode, as they would be), with the option names.
  returned: success
  type: dict
  contains:
    login_policy:
      description: The login policy.
      type: dict
      sample: {"login_fail_retry_times": 5, "login_fail_punish_seconds": 600, "token_expire_seconds": 86400}
    password_policy:
      description: The password complexity policy.
      type: dict
      sample: {"minimum_length": 12, "must_include_special_char": true, "max_expired_age": 90, "expired_warn_age": 7,
               "expire_force_modify": false, "expired_warn_windows_popup": false, "expired_warn_email_notify": false,
               "notify_user_password_when_create": false}
    access_control:
      description: The IP access control policy; ranges as C(start)/C(end) pairs as the API keeps them.
      type: dict
      sample: {"enabled": true, "mode": "whitelist",
               "ip_ranges": [{"start": "192.0.2.0", "end": "192.0.2.255"}]}
"""

import copy

from ansible_collections.tos.cloud.plugins.module_utils._checks import first_error
from ansible_collections.tos.cloud.plugins.module_utils._config import (
    ACCESS_POLICY,
    IP_POLICY,
    LOGIN_POLICY,
    PASSWORD_POLICY,
    SYSTEM_SETTING_OPTIONS,
    same_ranges,
    system_settings_desired,
)
from ansible_collections.tos.cloud.plugins.module_utils._module import (
    TosModule,
    from_api,
    hide_secret,
    merge,
)
from ansible_collections.tos.cloud.plugins.module_utils._topology import list_clusters, require_cluster

INSPECT = "/v1/system/setting/inspect"
UPDATE = "/v1/system/setting/update"


def managed(settings):
    """The three managed policies of a settings object (API shape), complete."""
    access = copy.deepcopy((settings or {}).get(ACCESS_POLICY) or {})
    access.setdefault(IP_POLICY, {})
    return {
        LOGIN_POLICY[0]: copy.deepcopy((settings or {}).get(LOGIN_POLICY[0]) or {}),
        PASSWORD_POLICY[0]: copy.deepcopy((settings or {}).get(PASSWORD_POLICY[0]) or {}),
        ACCESS_POLICY: access,
    }


def apply(current, desired):
    """``current`` (managed policies) with ``desired`` merged in; ranges equal in another order are kept as they are."""
    after = merge(current, desired)
    wanted = ((desired.get(ACCESS_POLICY) or {}).get(IP_POLICY) or {}).get("ip_ranges")
    have = (current[ACCESS_POLICY][IP_POLICY].get("ip_ranges") or {}).get("ranges")
    if wanted is not None and same_ranges(have, wanted["ranges"]):
        after[ACCESS_POLICY][IP_POLICY]["ip_ranges"] = copy.deepcopy(current[ACCESS_POLICY][IP_POLICY]["ip_ranges"])
    return after


def as_options(policies):
    ip_policy = policies[ACCESS_POLICY].get(IP_POLICY) or {}
    whitelist = ip_policy.get("whitelist")
    return {
        "login_policy": from_api(policies[LOGIN_POLICY[0]], LOGIN_POLICY[1]),
        "password_policy": from_api(policies[PASSWORD_POLICY[0]], PASSWORD_POLICY[1]),
        "access_control": {
            "enabled": ip_policy.get("enabled"),
            "mode": None if whitelist is None else ("whitelist" if whitelist else "blacklist"),
            "ip_ranges": (ip_policy.get("ip_ranges") or {}).get("ranges") or [],
        },
    }


def merged_errors(desired, after):
    """Checks of the merged policies that involve what the user set."""
    errors = []
    ip_policy = after[ACCESS_POLICY][IP_POLICY]
    if desired[ACCESS_POLICY][IP_POLICY] and ip_policy.get("enabled") and ip_policy.get("whitelist") \
            and not (ip_policy.get("ip_ranges") or {}).get("ranges"):
        errors.append("access_control: an enabled whitelist without any ip_ranges would lock every client out")
    policy = after[PASSWORD_POLICY[0]]
    touched = desired[PASSWORD_POLICY[0]]
    if {"password_max_expired_age", "password_expired_warn_age"} & set(touched):
        most, warn = policy.get("password_max_expired_age"), policy.get("password_expired_warn_age")
        if isinstance(most, int) and isinstance(warn, int) and 0 < most < warn:
            errors.append("password_policy.expired_warn_age: %s%s must not exceed password_policy.max_expired_age %s%s" % (
                warn, "" if "password_expired_warn_age" in touched else " (current value)",
                most, "" if "password_max_expired_age" in touched else " (current value)"))
    return errors


def update_body(after, desired, cluster_uuid):
    """``setting/update`` body as the request example (system-api.md lines 389-408): ``login_policy`` and
    ``password_complexity_policy`` whole (merged with the current values) and ``cluster_uuid``.  The
    example shows no ``access_control_policy``: it is sent only when ``access_control`` sets something,
    in the shape ``setting/inspect`` answers (ranges as ``{start, end}`` are our assumption)."""
    body = {"cluster_uuid": cluster_uuid, LOGIN_POLICY[0]: after[LOGIN_POLICY[0]], PASSWORD_POLICY[0]: after[PASSWORD_POLICY[0]]}
    if (desired.get(ACCESS_POLICY) or {}).get(IP_POLICY):
        body[ACCESS_POLICY] = after[ACCESS_POLICY]
    return body


def pick_cluster(tm):
    if tm.params["cluster"]:
        return require_cluster(tm, tm.params["cluster"])
    with tm.scope("find a cluster to address the system settings through"):
        clusters = list_clusters(tm.client)
    if not clusters:
        tm.fail("cluster: the manager has no cluster, and the system settings API needs one; create a cluster first.")
    return clusters[0]


def run(tm):
    desired, errors = system_settings_desired(tm.params)
    if errors:
        tm.fail(first_error(*errors))
    cluster = pick_cluster(tm)
    query = {"cluster_uuid": cluster["uuid"]}

    def read():
        settings = tm.client.get(INSPECT, query) or {}
        hide_secret(tm, (settings.get("mail_setting") or {}).get("smtp_password"))
        return managed(settings)

    with tm.scope("read the system settings"):
        current = read()
    after = apply(current, desired)
    errors = merged_errors(desired, after)
    if errors:
        tm.fail(first_error(*errors))
    changed = tm.track(as_options(current), as_options(after))
    if changed and not tm.check_mode:
        with tm.scope("update the system settings"):
            tm.client.post_verified(UPDATE, update_body(after, desired, cluster["uuid"]),
                                    landed=lambda: read() == after)
    tm.exit(settings=as_options(after))


def main():
    spec = dict(cluster=dict(type="str"), **copy.deepcopy(SYSTEM_SETTING_OPTIONS))
    TosModule(argument_spec=spec, secrets=("smtp_password",)).execute(run)


if __name__ == "__main__":
    main()
