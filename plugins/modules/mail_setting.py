#!/usr/bin/python
# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: mail_setting
short_description: Configure the manager's outgoing mail (SMTP) and send a test mail
version_added: 0.1.0
description:
  - Reads the mail settings (C(/v1/system/mail_setting/inspect)) and updates them (C(/v1/system/mail_setting/update))
    when they differ from what is asked. Options you leave unset keep their current value; the whole settings object
    is sent back.
  - With O(test_recipient), sends a test mail with the resulting settings (C(/v1/system/mail_setting/test)) and fails
    with the SMTP server's reason when it cannot be sent.
  - The SMTP password is compared with the current one without being shown; it never appears in the result, the diff,
    warnings or error messages.
author:
  - tos.cloud maintainers (@tos-cloud)
extends_documentation_fragment:
  - tos.cloud.connection
  - tos.cloud.attributes
  - tos.cloud.attributes.API
attributes:
  check_mode:
    support: full
    details:
      - Check mode sends no test mail.
  diff_mode:
    support: full
    details:
      - The password shows as C(********), followed by C((changed)) when it changes.
options:
  enabled:
    description: Whether the manager sends mail at all.
    type: bool
  async_send:
    description: Whether mail is queued and sent in the background (API field C(asynchronous_send_enabled)).
    type: bool
    aliases: [asynchronous_send_enabled]
  sender_mail:
    description: The sender's address (C(From)).
    type: str
  sender_name:
    description: The sender's display name.
    type: str
  smtp_server:
    description: Host name or IP address of the SMTP server (API field C(smtp_server_ip)).
    type: str
    aliases: [smtp_server_ip]
  smtp_port:
    description: TCP port of the SMTP server (API field C(smtp_server_port)).
    type: int
    aliases: [smtp_server_port]
  smtp_tls:
    description: Whether to talk TLS to the SMTP server (API field C(smtp_tls_enabled)).
    type: bool
    aliases: [smtp_tls_enabled]
  smtp_account:
    description: The account to log in to the SMTP server with; empty for none.
    type: str
  smtp_password:
    description:
      - The password of O(smtp_account).
      - Compared with the current one, so a run with the same password changes nothing.
    type: str
  test_recipient:
    description:
      - Send a test mail to this address with the settings to apply and fail if it cannot be sent. The test comes
        B(before) the settings are saved (the test endpoint takes the settings in its body), so settings that cannot
        send mail (a wrong password, for example) are never stored; a failed test changes nothing.
      - The test mail is sent on every run that sets this option (not in check mode); it does not count as a change.
    type: str
"""

EXAMPLES = r"""
- name: Send the manager's mail through the office relay and check that it works
  tos.cloud.mail_setting:
    api_url: http://127.0.0.1:9990
    enabled: true
    sender_mail: cloud@example.com
    sender_name: Cloud manager
    smtp_server: 127.0.0.1
    smtp_port: 2525
    smtp_tls: false
    smtp_account: cloud@example.com
    smtp_password: "{{ vault_smtp_password | default('change-me') }}"
  register: mail

- name: Turn mail off, keeping the server settings
  tos.cloud.mail_setting:
    api_url: http://127.0.0.1:9990
    enabled: false
"""

RETURN = r"""
mail_setting:
  description: The mail settings after the change (in check mode, as they would be), with the password masked.
  returned: success
  type: dict
  sample: {"enabled": true, "async_send": false, "sender_mail": "cloud@example.com", "sender_name": "Cloud manager",
           "smtp_server": "smtp.example.com", "smtp_port": 25, "smtp_tls": false, "smtp_account": "cloud@example.com",
           "smtp_password": "********"}
test:
  description: The outcome of the test mail.
  returned: when O(test_recipient) is set
  type: dict
  contains:
    recipient:
      description: The address the test mail went to.
      type: str
      sample: ops@example.com
    sent:
      description: Whether the manager sent it (false in check mode).
      type: bool
      sample: true
    msg:
      description: What happened.
      type: str
      sample: The manager sent a test mail to ops@example.com.
"""

from ansible_collections.tos.cloud.plugins.module_utils._checks import first_error
from ansible_collections.tos.cloud.plugins.module_utils._config import MAIL_FIELDS, MAIL_PASSWORD, mail_errors
from ansible_collections.tos.cloud.plugins.module_utils._module import (
    TosModule,
    from_api,
    hide_secret,
    merge,
    pick,
    to_api,
    without,
)
from ansible_collections.tos.cloud.plugins.module_utils._redact import same_secret, secret_hidden

INSPECT = "/v1/system/mail_setting/inspect"
UPDATE = "/v1/system/mail_setting/update"
TEST = "/v1/system/mail_setting/test"
PASSWORD = MAIL_PASSWORD


def desired_settings(current, params):
    """The full settings object to have, and whether the password could not be compared."""
    desired = to_api(pick(params, list(MAIL_FIELDS)), MAIL_FIELDS)
    unknown = False
    if PASSWORD in desired:
        if secret_hidden(current.get(PASSWORD)):
            unknown = True
        elif same_secret(current.get(PASSWORD), desired[PASSWORD]):
            desired[PASSWORD] = current.get(PASSWORD)
    return merge(current, desired), unknown


def run(tm):
    error = first_error(*mail_errors(tm.params))
    if error:
        tm.fail(error)

    def read():
        return tm.client.get(INSPECT) or {}

    with tm.scope("read the mail settings"):
        current = read()
    hide_secret(tm, current.get(PASSWORD))
    after, unknown = desired_settings(current, tm.params)
    if unknown:
        tm.warn("The manager does not reveal the current SMTP password, so it cannot be compared: it is sent "
                "only when another mail setting changes.")
    compared_after = dict(after, **{PASSWORD: current.get(PASSWORD)}) if unknown else after
    before_view, after_view = from_api(current, MAIL_FIELDS), from_api(compared_after, MAIL_FIELDS)
    changed = before_view != after_view
    if tm.check_mode or not changed:
        tm.track(before_view, after_view)
    body = after
    if secret_hidden(after.get(PASSWORD)):
        # never send a mask back as the password: leave it out so the manager keeps its own
        body = without(after, (PASSWORD,))
    result = {"mail_setting": from_api(compared_after, MAIL_FIELDS)}
    recipient = tm.params["test_recipient"]
    if recipient:
        if tm.check_mode:
            result["test"] = {"recipient": recipient, "sent": False,
                              "msg": "Check mode: no test mail was sent to %s." % recipient}
        else:
            # the test endpoint takes the settings in its body: test them BEFORE saving, so settings that cannot
            # send (a wrong password) are never stored
            with tm.scope("send a test mail to %s with the %s settings (nothing is saved when it fails)" % (
                    recipient, "new" if changed else "current")):
                tm.client.post(TEST, dict(body, receiver_email=recipient))
            result["test"] = {"recipient": recipient, "sent": True,
                              "msg": "The manager sent a test mail to %s." % recipient}
    if changed and not tm.check_mode:
        with tm.scope("update the mail settings"):
            tm.client.post_verified(UPDATE, body,
                                    landed=lambda: without(read(), (PASSWORD,)) == without(after, (PASSWORD,)))
        tm.track(before_view, after_view)  # after the request: a refused test or update changed nothing
    tm.exit(**result)


def main():
    spec = dict(
        enabled=dict(type="bool"),
        async_send=dict(type="bool", aliases=["asynchronous_send_enabled"]),
        sender_mail=dict(type="str"),
        sender_name=dict(type="str"),
        smtp_server=dict(type="str", aliases=["smtp_server_ip"]),
        smtp_port=dict(type="int", aliases=["smtp_server_port"]),
        smtp_tls=dict(type="bool", aliases=["smtp_tls_enabled"]),
        smtp_account=dict(type="str"),
        smtp_password=dict(type="str", no_log=True),
        test_recipient=dict(type="str"),
    )
    TosModule(argument_spec=spec, secrets=(PASSWORD,)).execute(run)


if __name__ == "__main__":
    main()
