#!/usr/bin/python
# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: report_mail
short_description: Mail a report through an SMTP server
version_added: 0.1.0
description:
  - Sends one mail with a plain-text body, optionally an HTML body (shown instead of the text by mail
    readers that can), and files attached, through the SMTP server you name.
  - Made for the reports of the C(tos.cloud.inspection_report) role, which needs no other collection to mail
    them. It talks to the SMTP server directly, not to the manager's API; the manager's own mail settings
    (M(tos.cloud.mail_setting)) are not used.
author:
  - tos.cloud maintainers (@tos-cloud)
extends_documentation_fragment:
  - tos.cloud.attributes
  - tos.cloud.attributes.controller
attributes:
  check_mode:
    support: full
    details: In check mode the mail is built (so missing attachments fail) but not sent.
  diff_mode:
    support: none
options:
  to:
    description: Recipients' addresses.
    type: list
    elements: str
    required: true
  sender:
    description: The sender's address (C(From)).
    type: str
    required: true
  subject:
    description: Subject of the mail.
    type: str
    required: true
  body:
    description: Plain-text body.
    type: str
    default: ""
  html_body:
    description:
      - HTML body, for example the content of a rendered report. Mail readers that show HTML show this instead
        of O(body).
    type: str
  attachments:
    description: Files to attach, by path on the host that runs the module.
    type: list
    elements: path
    default: []
  smtp_host:
    description: The SMTP server.
    type: str
    default: localhost
  smtp_port:
    description: Its port.
    type: int
    default: 25
  security:
    description:
      - V(none) sends in clear text, V(starttls) upgrades the connection with STARTTLS, V(ssl) connects with
        TLS from the start (usually port 465).
    type: str
    choices: [none, starttls, ssl]
    default: none
  username:
    description: Log in with this user; without it the mail is sent without logging in.
    type: str
  password:
    description: Password of O(username). Never shown.
    type: str
  validate_certs:
    description: Verify the SMTP server's TLS certificate (with O(security=starttls) or O(security=ssl)).
    type: bool
    default: true
  timeout:
    description: Seconds to wait for the SMTP server.
    type: int
    default: 30
notes:
  - Every run sends a mail, so the module always reports a change.
seealso:
  - module: tos.cloud.mail_setting
"""

EXAMPLES = r"""
- name: Mail the inspection report to the operators
  tos.cloud.report_mail:
    to: [ops@example.com]
    sender: tos-report@example.com
    subject: "tos inspection: warning, lowest score 85"
    body: "{{ lookup('ansible.builtin.file', 'report/report.md') }}"
    html_body: "{{ lookup('ansible.builtin.file', 'report/index.html') }}"
    attachments:
      - report/index.html
      - report/report.json
      - report/report.md
    smtp_host: smtp.example.com
    smtp_port: 587
    security: starttls
    username: tos-report
    password: "{{ vault_smtp_password }}"
  delegate_to: localhost
"""

RETURN = r"""
recipients:
  description: The addresses the mail went to (or would go to, in check mode).
  returned: always
  type: list
  elements: str
  sample: [ops@example.com]
attachments:
  description: File names attached.
  returned: always
  type: list
  elements: str
  sample: [index.html, report.json, report.md]
message_id:
  description: The C(Message-ID) of the mail.
  returned: always
  type: str
  sample: "<171234567890.4242.1@example.com>"
"""

import mimetypes
import os
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.tos.cloud.plugins.module_utils._shapes import checked_module


def build_message(params):
    msg = EmailMessage()
    msg["From"] = params["sender"]
    msg["To"] = ", ".join(params["to"])
    msg["Subject"] = params["subject"]
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain=params["sender"].rpartition("@")[2] or None)
    msg.set_content(params["body"] or "")
    if params["html_body"]:
        msg.add_alternative(params["html_body"], subtype="html")
    for path in params["attachments"]:
        ctype, encoding = mimetypes.guess_type(path)
        if ctype is None or encoding is not None:
            ctype = "application/octet-stream"
        maintype, subtype = ctype.split("/", 1)
        with open(path, "rb") as handle:
            data = handle.read()
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=os.path.basename(path))
    return msg


def send(params, msg):
    context = ssl.create_default_context()
    if not params["validate_certs"]:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if params["security"] == "ssl":
        server = smtplib.SMTP_SSL(params["smtp_host"], params["smtp_port"], timeout=params["timeout"], context=context)
    else:
        server = smtplib.SMTP(params["smtp_host"], params["smtp_port"], timeout=params["timeout"])
    try:
        server.ehlo_or_helo_if_needed()
        if params["security"] == "starttls":
            server.starttls(context=context)
            server.ehlo()
        if params["username"]:
            server.login(params["username"], params["password"] or "")
        refused = server.send_message(msg)
    finally:
        try:
            server.quit()
        except (smtplib.SMTPException, OSError):
            server.close()
    return refused


def main():
    module = checked_module(
        argument_spec=dict(
            to=dict(type="list", elements="str", required=True),
            sender=dict(type="str", required=True),
            subject=dict(type="str", required=True),
            body=dict(type="str", default=""),
            html_body=dict(type="str"),
            attachments=dict(type="list", elements="path", default=[]),
            smtp_host=dict(type="str", default="localhost"),
            smtp_port=dict(type="int", default=25),
            security=dict(type="str", choices=["none", "starttls", "ssl"], default="none"),
            username=dict(type="str"),
            password=dict(type="str", no_log=True),
            validate_certs=dict(type="bool", default=True),
            timeout=dict(type="int", default=30),
        ),
        required_by=dict(password=["username"]),
        supports_check_mode=True,
    )
    params = module.params
    if not params["to"]:
        module.fail_json(msg="to: give at least one recipient.")
    for path in params["attachments"]:
        if not os.path.isfile(path):
            module.fail_json(msg="attachments: %s is not a file." % path)
    # changed only once the mail is on its way (or would be, in check mode): a failed send changed nothing
    result = dict(
        changed=False,
        recipients=params["to"],
        attachments=[os.path.basename(p) for p in params["attachments"]],
    )
    try:
        msg = build_message(params)
    except (OSError, ValueError) as exc:
        module.fail_json(msg="Could not build the mail: %s" % to_native(exc), **result)
    result["message_id"] = msg["Message-ID"]
    if module.check_mode:
        result["changed"] = True
        module.exit_json(**result)
    where = "%s:%s" % (params["smtp_host"], params["smtp_port"])
    try:
        refused = send(params, msg)
    except smtplib.SMTPAuthenticationError as exc:
        module.fail_json(msg="The SMTP server %s refused the login of %s: %s" % (where, params["username"], to_native(exc)), **result)
    except smtplib.SMTPRecipientsRefused as exc:
        module.fail_json(msg="The SMTP server %s refused every recipient: %s" % (where, ", ".join(sorted(exc.recipients))), **result)
    except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
        module.fail_json(msg="Could not send the mail through %s: %s" % (where, to_native(exc)), **result)
    if refused:
        module.warn("The SMTP server refused some recipients: %s" % ", ".join(sorted(refused)))
        result["recipients"] = [r for r in params["to"] if r not in refused]
    result["changed"] = True
    module.exit_json(**result)


if __name__ == "__main__":
    main()
