"""Error codes of the simulated /v1 API, defined in one place.

Every error the simulator returns is an :class:`ApiError` carrying one of these codes and an
English and a Chinese message. Handlers raise it; the application turns it into an envelope.
Codes are stable: tests and modules may rely on them. The table is also in simulator/README.md.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any


class Code(IntEnum):
    SUCCESS = 0
    # 1xxx: the request itself
    INVALID_JSON = 1001
    MISSING_PARAMETER = 1002
    INVALID_PARAMETER = 1003
    UNKNOWN_ENDPOINT = 1004
    METHOD_NOT_ALLOWED = 1005
    UNAUTHORIZED = 1401
    # 2xxx: clusters and hosts
    CLUSTER_NOT_FOUND = 2001
    CLUSTER_NAME_EXISTS = 2002
    HOST_NOT_FOUND = 2003
    HOST_IN_CLUSTER = 2004
    CLUSTER_NOT_EMPTY = 2005
    HOST_NOT_IN_CLUSTER = 2006
    # 3xxx: cloud-management VMs, storage-service VMs, host tasks
    CVM_EXISTS = 3001
    CVM_NOT_FOUND = 3002
    ADDRESS_IN_USE = 3003
    HOST_BUSY = 3004
    STORAGE_VM_NOT_FOUND = 3005
    NO_AVAILABLE_HOST = 3006
    SERVICE_NOT_INSTALLED = 3007
    TASK_RUNNING = 3008
    HOST_DOWN = 3009
    TASK_FAILED = 3010
    # 4xxx: metadata snapshots
    NOT_CENTER_NODE = 4001
    SNAPSHOT_NOT_FOUND = 4002
    # 5xxx: never used by the simulator itself; 5000 is the default code of an injected
    # "envelope" fault (POST /_sim/faults), so faults never look like a real platform error
    INJECTED_FAULT = 5000
    # 6xxx: inspection
    INSPECTION_RUNNING = 6001
    # 7xxx: upgrades
    NO_UPGRADE_PACKAGE = 7001
    # 8xxx: mail
    MAIL_CONNECT_FAILED = 8001
    MAIL_AUTH_FAILED = 8002
    MAIL_SEND_FAILED = 8003
    MAIL_TLS_FAILED = 8004
    # 9xxx: the simulator itself
    INTERNAL_ERROR = 9000


#: one-line description of each code, for the documentation and the `desc` envelope field
DESCRIPTIONS: dict[Code, str] = {
    Code.SUCCESS: "success",
    Code.INVALID_JSON: "the request body is not valid JSON (HTTP 400)",
    Code.MISSING_PARAMETER: "a required parameter is missing or empty",
    Code.INVALID_PARAMETER: "a parameter has the wrong type or an invalid value",
    Code.UNKNOWN_ENDPOINT: "no such /v1 endpoint (HTTP 404)",
    Code.METHOD_NOT_ALLOWED: "the endpoint exists with another HTTP method (HTTP 405)",
    Code.UNAUTHORIZED: "missing or wrong bearer token (HTTP 401)",
    Code.CLUSTER_NOT_FOUND: "no cluster with that uuid",
    Code.CLUSTER_NAME_EXISTS: "a cluster with that exact name already exists",
    Code.HOST_NOT_FOUND: "no known host (or VM) with that address or uuid",
    Code.HOST_IN_CLUSTER: "the host already belongs to a cluster",
    Code.TASK_FAILED: "the host's task failed (only with --task-failure error, documented-only mode)",
    Code.CLUSTER_NOT_EMPTY: "the cluster still has CVMs, storage-service VMs or running tasks",
    Code.HOST_NOT_IN_CLUSTER: "the host is not a member of that cluster",
    Code.CVM_EXISTS: "the host already carries a cloud-management VM",
    Code.CVM_NOT_FOUND: "no cloud-management VM with that uuid in the cluster",
    Code.ADDRESS_IN_USE: "the IP address is already used by a host or VM",
    Code.HOST_BUSY: "a task (deploy or upgrade) is already running on the host",
    Code.STORAGE_VM_NOT_FOUND: "no storage-service VM with that uuid in the cluster",
    Code.NO_AVAILABLE_HOST: "no host of the cluster can take a storage-service VM",
    Code.SERVICE_NOT_INSTALLED: "the service type is not installed on the host",
    Code.TASK_RUNNING: "the VM is still being deployed (use force)",
    Code.HOST_DOWN: "the host is down",
    Code.NOT_CENTER_NODE: "the ip is not a center (CVM) node of the cluster",
    Code.SNAPSHOT_NOT_FOUND: "no metadata snapshot with that file name",
    Code.INJECTED_FAULT: "default code of an injected envelope fault",
    Code.INSPECTION_RUNNING: "an inspection is already running on the cluster",
    Code.NO_UPGRADE_PACKAGE: "no upgrade package is present",
    Code.MAIL_CONNECT_FAILED: "cannot connect to the SMTP server",
    Code.MAIL_AUTH_FAILED: "the SMTP server rejected the account/password",
    Code.MAIL_SEND_FAILED: "the SMTP server refused the test mail",
    Code.MAIL_TLS_FAILED: "the TLS handshake with the SMTP server failed",
    Code.INTERNAL_ERROR: "unexpected simulator error (logged; never an HTTP 500)",
}


@dataclass
class ApiError(Exception):
    """An error answered as an envelope with a non-zero code."""

    code: Code
    message_en: str
    message_cn: str
    http_status: int = 200

    def __str__(self) -> str:
        return f"{int(self.code)} {self.message_en}"


def missing(name: str) -> ApiError:
    return ApiError(
        Code.MISSING_PARAMETER,
        f"missing required parameter '{name}'",
        f"缺少必填参数 '{name}'",
    )


def invalid(name: str, reason_en: str, reason_cn: str) -> ApiError:
    return ApiError(
        Code.INVALID_PARAMETER,
        f"invalid parameter '{name}': {reason_en}",
        f"参数 '{name}' 无效：{reason_cn}",
    )


def not_found(code: Code, what_en: str, what_cn: str, key: Any) -> ApiError:
    return ApiError(code, f"{what_en} '{key}' not found", f"{what_cn} '{key}' 不存在")


def missing_one_of(*names: str) -> ApiError:
    listed = ", ".join(f"'{n}'" for n in names)
    return ApiError(
        Code.MISSING_PARAMETER,
        f"missing parameter: at least one of {listed} is required",
        f"缺少参数：{listed} 至少需要提供一个",
    )
