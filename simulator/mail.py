"""Sending the test mail of /v1/system/mail_setting/test over real SMTP (smtplib).

Implicit TLS is used on port 465 when smtp_tls_enabled, STARTTLS otherwise; like the platform,
the SMTP server's certificate is not verified (internal relays often use private certificates).
"""
from __future__ import annotations

import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import formataddr
from typing import Any

from .errors import ApiError, Code

TIMEOUT = 10.0


def _fail(code: Code, where: str, reason: str, reason_cn: str) -> ApiError:
    return ApiError(code, f"mail test failed: {where}: {reason}", f"测试邮件发送失败：{where}：{reason_cn}")


def send_test_mail(cfg: dict[str, Any], receiver: str, timeout: float = TIMEOUT) -> None:
    """Blocking: run it in a thread. Raises ApiError with the reason when it cannot send."""
    host, port = str(cfg["smtp_server_ip"]), int(cfg["smtp_server_port"])
    where = f"SMTP server {host}:{port}"
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    sender = cfg.get("sender_mail") or cfg.get("smtp_account") or f"noreply@{host}"
    message = EmailMessage()
    message["From"] = formataddr((str(cfg.get("sender_name") or ""), str(sender)))
    message["To"] = receiver
    message["Subject"] = "TOS cloud platform: test mail / 测试邮件"
    message.set_content(
        "This is a test mail sent by the TOS cloud platform to check the mail settings.\n"
        "这是云平台发送的测试邮件，用于检查发信邮箱配置。\n"
    )
    try:
        if cfg.get("smtp_tls_enabled") and port == 465:
            client: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        else:
            client = smtplib.SMTP(host, port, timeout=timeout)
        with client:
            client.ehlo_or_helo_if_needed()
            if cfg.get("smtp_tls_enabled") and port != 465:
                client.starttls(context=context)
                client.ehlo()
            if cfg.get("smtp_account") and cfg.get("smtp_password"):
                client.login(str(cfg["smtp_account"]), str(cfg["smtp_password"]))
            client.send_message(message, from_addr=str(sender), to_addrs=[receiver])
    except smtplib.SMTPAuthenticationError as exc:
        raise _fail(Code.MAIL_AUTH_FAILED, where, f"authentication failed for account '{cfg.get('smtp_account')}' "
                    f"({exc.smtp_code} {_text(exc.smtp_error)})", "账号或密码认证失败") from None
    except smtplib.SMTPNotSupportedError as exc:
        code = Code.MAIL_TLS_FAILED if "STARTTLS" in str(exc).upper() else Code.MAIL_AUTH_FAILED
        raise _fail(code, where, str(exc), "服务器不支持所需的扩展（STARTTLS 或 AUTH）") from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise _fail(Code.MAIL_SEND_FAILED, where, f"recipient refused: {_refused(exc.recipients)}", "收件人被拒绝") from None
    except smtplib.SMTPSenderRefused as exc:
        raise _fail(Code.MAIL_SEND_FAILED, where, f"sender {exc.sender} refused ({exc.smtp_code} {_text(exc.smtp_error)})",
                    "发件人被拒绝") from None
    except smtplib.SMTPServerDisconnected as exc:
        raise _fail(Code.MAIL_CONNECT_FAILED, where, f"the server closed the connection ({exc})", "服务器关闭了连接") from None
    except smtplib.SMTPResponseException as exc:
        raise _fail(Code.MAIL_SEND_FAILED, where, f"{exc.smtp_code} {_text(exc.smtp_error)}", "服务器拒绝了邮件") from None
    except smtplib.SMTPException as exc:
        raise _fail(Code.MAIL_SEND_FAILED, where, str(exc), "发送失败") from None
    except ssl.SSLError as exc:
        raise _fail(Code.MAIL_TLS_FAILED, where, f"TLS handshake failed ({exc.reason or exc})", "TLS 握手失败") from None
    except ConnectionRefusedError:
        raise _fail(Code.MAIL_CONNECT_FAILED, where, "connection refused", "连接被拒绝") from None
    except socket.gaierror as exc:
        raise _fail(Code.MAIL_CONNECT_FAILED, where, f"cannot resolve the host name ({exc.strerror})", "无法解析主机名") from None
    except TimeoutError:
        raise _fail(Code.MAIL_CONNECT_FAILED, where, f"timed out after {timeout:g} s", f"{timeout:g} 秒后超时") from None
    except OSError as exc:
        raise _fail(Code.MAIL_CONNECT_FAILED, where, exc.strerror or str(exc), "无法连接") from None


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _refused(recipients: dict[str, tuple[int, bytes]]) -> str:
    return ", ".join(f"{r} ({code} {_text(msg)})" for r, (code, msg) in recipients.items())
