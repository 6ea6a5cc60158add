"""Missing and malformed parameters, unknown clusters and bad requests get clear error envelopes
with stable codes, never an HTTP 500."""
from __future__ import annotations

from typing import Any

import pytest
import requests
from conftest import Api

MISSING, INVALID, NOT_FOUND = 1002, 1003, 2001


def valid_requests(api: Api, cluster: str) -> dict[str, tuple[str, dict[str, Any], list[str]]]:
    """path -> (method, a valid parameter set, the documented required parameters)."""
    a1 = api.host("tos-a1")
    center = "192.0.2.101"
    return {
        "/v1/cluster/add": ("POST", {"ip": "198.51.100.11", "name": "n"}, ["ip", "name"]),
        "/v1/cluster/delete": ("POST", {"cluster_uuid": cluster}, ["cluster_uuid"]),
        "/v1/cluster/get": ("GET", {"cluster_uuid": cluster}, ["cluster_uuid"]),
        "/v1/cluster/top": ("GET", {"cluster_uuid": cluster, "count": 3}, ["cluster_uuid", "count"]),
        "/v1/cluster/system/service/storage": ("GET", {"cluster_uuid": cluster}, ["cluster_uuid"]),
        "/v1/cluster/cloud/manage": ("GET", {"cluster_uuid": cluster}, ["cluster_uuid"]),
        "/v1/cluster/compute/service/statistic": ("GET", {"cluster_uuid": cluster}, ["cluster_uuid"]),
        "/v1/cluster/compute/service/statistic/host": ("GET", {"cluster_uuid": cluster, "machine": a1["uuid"]},
                                                       ["cluster_uuid", "machine"]),
        "/v1/cluster/inspection": ("POST", {"cluster_uuid": cluster, "cluster_name": "c1", "check_system": True},
                                   ["cluster_uuid", "cluster_name"]),
        "/v1/cluster/inspection/progress": ("GET", {"cluster_uuid": cluster}, ["cluster_uuid"]),
        "/v1/cluster/inspection/stop": ("POST", {"cluster_uuid": cluster, "cluster_name": "c1"},
                                        ["cluster_uuid", "cluster_name"]),
        "/v1/cluster/compute/service/drsconfig/get": ("GET", {"cluster_uuid": cluster}, ["cluster_uuid"]),
        "/v1/cluster/compute/service/drsconfig/update": ("POST", {"cluster_uuid": cluster, "config": {"DRS": {"MaxStep": 3}}},
                                                         ["cluster_uuid", "config"]),
        "/v1/cluster/deploy/storage_service/vm": (
            "POST",
            {"cluster_uuid": cluster, "vm_type": "GST", "manage_cidr": "192.0.2.120/24", "manage_gateway": "192.0.2.1",
             "storage_cidr": "192.0.2.170/24", "storage_gateway": "192.0.2.1"},
            ["cluster_uuid", "vm_type", "manage_cidr", "manage_gateway", "storage_cidr", "storage_gateway"],
        ),
        "/v1/cluster/storage_service/vm/list": ("GET", {"cluster_uuid": cluster}, ["cluster_uuid"]),
        "/v1/cluster/storage_service/vm/delete": ("POST", {"cluster_uuid": cluster, "uuid": "x"}, ["cluster_uuid", "uuid"]),
        "/v1/cluster/deploy/cvm": ("POST", {"cluster_uuid": cluster, "MachineUUID": api.host("tos-a2")["uuid"],
                                            "Networks": [{"Addr": "192.0.2.102/24", "Gateway": "192.0.2.1"}]},
                                   ["cluster_uuid", "MachineUUID", "Networks"]),
        "/v1/cluster/delete/cvm": ("POST", {"cluster_uuid": cluster, "MachineUUID": a1["uuid"]}, ["cluster_uuid", "MachineUUID"]),
        "/v1/cluster/data/snapshot/save": ("POST", {"cluster_uuid": cluster, "ip": center}, ["cluster_uuid", "ip"]),
        "/v1/cluster/data/snapshot/delete": ("POST", {"cluster_uuid": cluster, "ip": center, "file_name": "snapshot1.db"},
                                             ["cluster_uuid", "ip", "file_name"]),
        "/v1/cluster/data/snapshot/list": ("GET", {"cluster_uuid": cluster, "ip": center}, ["cluster_uuid", "ip"]),
        "/v1/cluster/data/daemon/state": ("GET", {"cluster_uuid": cluster, "ip": center}, ["cluster_uuid", "ip"]),
        "/v1/cluster/data/daemon/start": ("POST", {"cluster_uuid": cluster, "ip": center}, ["cluster_uuid", "ip"]),
        "/v1/cluster/data/daemon/stop": ("POST", {"cluster_uuid": cluster, "ip": center}, ["cluster_uuid", "ip"]),
        "/v1/cluster/data/snapshot/config/inspect": ("GET", {"cluster_uuid": cluster, "ip": center}, ["cluster_uuid", "ip"]),
        "/v1/cluster/data/snapshot/config/update": (
            "POST", {"cluster_uuid": cluster, "ip": center, "display_option": "day", "duration": 86400},
            ["cluster_uuid", "ip", "display_option", "duration"],
        ),
        "/v1/cluster/get/global/config": ("GET", {"cluster_uuid": cluster}, ["cluster_uuid"]),
        "/v1/cluster/set/global/config": ("POST", {"cluster_uuid": cluster, "CPUOverAllocationThreshold": 0.5}, ["cluster_uuid"]),
        "/v1/cluster/host/task/progress": ("GET", {"cluster_uuid": cluster, "host_uuid": a1["uuid"]},
                                           ["cluster_uuid", "host_uuid"]),
        "/v1/cluster/hardware_resources/inspect": ("GET", {"cluster_uuid": cluster}, ["cluster_uuid"]),
        "/v1/cluster/detail_status/inspect": ("GET", {"cluster_uuid": cluster}, ["cluster_uuid"]),
        "/v1/cluster/overall_status/inspect": ("GET", {"cluster_uuid": cluster}, ["cluster_uuid"]),
        "/v1/cluster/vmserver/service/get": ("GET", {"cluster_uuid": cluster}, ["cluster_uuid"]),
        "/v1/cluster/all_cluster/topology": ("POST", {"cluster_uuid": cluster}, ["cluster_uuid"]),
        "/v1/cluster/overview/inspect": ("GET", {"cluster_uuid": cluster}, ["cluster_uuid"]),
        "/v1/system/mail_setting/test": ("POST", {"receiver_email": "a@example.com"}, ["receiver_email"]),
        "/v1/system/setting/inspect": ("GET", {"cluster_uuid": cluster}, ["cluster_uuid"]),
        "/v1/system/setting/update": ("POST", {"cluster_uuid": cluster}, ["cluster_uuid"]),
        "/v1/system/compute/version/upgrade": ("POST", {"cluster_uuid": cluster, "list": [{"host_ip": "192.0.2.12",
                                                                                          "service_type": "compute"}]},
                                               ["cluster_uuid", "list"]),
        "/v1/system/upgrade_package/list": ("GET", {"cluster_uuid": cluster}, ["cluster_uuid"]),
        "/v1/system/upgrade_package/current/inspect": ("GET", {"cluster_uuid": cluster}, ["cluster_uuid"]),
        "/v1/system/compute/version/list": ("GET", {"cluster_uuid": cluster, "host_ip": "192.0.2.11"},
                                            ["cluster_uuid", "host_ip"]),
    }


def send(api: Api, method: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
    return api.get(path, **params) if method == "GET" else api.post(path, params)


def test_every_missing_required_parameter_is_named_in_the_error(api: Api, cvm_cluster: str) -> None:
    checked = 0
    for path, (method, params, required) in valid_requests(api, cvm_cluster).items():
        for name in required:
            partial = {k: v for k, v in params.items() if k != name}
            envelope = send(api, method, path, partial)
            assert envelope["scode"] == MISSING, (path, name, envelope)
            assert f"'{name}'" in envelope["message"] and f"'{name}'" in envelope["message_cn"], envelope
            assert envelope["data"] is None
            checked += 1
    assert checked >= 70


def test_empty_strings_count_as_missing(api: Api, cluster: str) -> None:
    envelope = api.get("/v1/cluster/get", cluster_uuid="")
    assert envelope["scode"] == MISSING


@pytest.mark.parametrize(
    ("body", "name"),
    [
        ({"Networks": []}, "Networks"),
        ({"Networks": [{"Gateway": "192.0.2.1"}]}, "Networks[0].Addr"),
        ({"Networks": [{"Addr": "192.0.2.102/24"}]}, "Networks[0].Gateway"),
    ],
)
def test_nested_required_parameters(api: Api, cluster: str, body: dict[str, Any], name: str) -> None:
    envelope = api.post("/v1/cluster/deploy/cvm", {"cluster_uuid": cluster, "MachineUUID": api.host("tos-a2")["uuid"], **body})
    assert envelope["scode"] == MISSING and f"'{name}'" in envelope["message"], envelope


def test_upgrade_list_items_need_host_ip_and_service_type(api: Api, cluster: str) -> None:
    for item, name in (({"service_type": "compute"}, "list[0].host_ip"), ({"host_ip": "192.0.2.11"}, "list[0].service_type")):
        envelope = api.post("/v1/system/compute/version/upgrade", {"cluster_uuid": cluster, "list": [item]})
        assert envelope["scode"] == MISSING and f"'{name}'" in envelope["message"], envelope


@pytest.mark.parametrize(
    ("method", "path", "params", "name"),
    [
        ("GET", "/v1/cluster/list", {"page_size": "abc"}, "page_size"),
        ("GET", "/v1/cluster/list", {"page_num": "-1"}, "page_num"),
        ("POST", "/v1/cluster/add", {"ip": "300.1.2.3", "name": "x"}, "ip"),
        ("POST", "/v1/cluster/add", {"ip": "192.0.2.11", "name": 5}, "name"),
        ("POST", "/v1/cluster/add", {"ip": "192.0.2.11", "name": " padded "}, "name"),
        ("POST", "/v1/system/mail_setting/update", {"smtp_server_port": "25"}, "smtp_server_port"),
        ("POST", "/v1/system/mail_setting/update", {"smtp_server_port": 70000}, "smtp_server_port"),
        ("POST", "/v1/system/mail_setting/update", {"enabled": "yes"}, "enabled"),
        ("POST", "/v1/system/mail_setting/update", {"sender_mail": "not-an-address"}, "sender_mail"),
        ("POST", "/v1/system/mail_setting/test", {"receiver_email": "nobody"}, "receiver_email"),
    ],
)
def test_malformed_parameters_are_invalid(api: Api, method: str, path: str, params: dict[str, Any], name: str) -> None:
    envelope = send(api, method, path, params)
    assert envelope["scode"] == INVALID, envelope
    assert f"'{name}'" in envelope["message"], envelope


def test_malformed_cluster_scoped_parameters(api: Api, cvm_cluster: str) -> None:
    c = cvm_cluster
    a2 = api.host("tos-a2")["uuid"]
    cases = [
        ("GET", "/v1/cluster/top", {"cluster_uuid": c, "count": "0"}, "count"),
        ("POST", "/v1/cluster/delete", {"cluster_uuid": c, "force": "true"}, "force"),
        ("POST", "/v1/cluster/deploy/cvm", {"cluster_uuid": c, "MachineUUID": a2,
                                            "Networks": [{"Addr": "192.0.2.102", "Gateway": "192.0.2.1"}]}, "Networks[0].Addr"),
        ("POST", "/v1/cluster/deploy/cvm", {"cluster_uuid": c, "MachineUUID": a2,
                                            "Networks": [{"Addr": "192.0.2.102/24", "Gateway": "198.51.100.1"}]},
         "Networks[0].Gateway"),
        ("POST", "/v1/cluster/deploy/cvm", {"cluster_uuid": c, "MachineUUID": a2,
                                            "Networks": [{"Addr": "192.0.2.255/24", "Gateway": "192.0.2.1"}]}, "Networks[0].Addr"),
        ("POST", "/v1/cluster/deploy/storage_service/vm",
         {"cluster_uuid": c, "vm_type": "XYZ", "manage_cidr": "192.0.2.120/24", "manage_gateway": "192.0.2.1",
          "storage_cidr": "192.0.2.170/24", "storage_gateway": "192.0.2.1"}, "vm_type"),
        ("POST", "/v1/cluster/data/snapshot/config/update",
         {"cluster_uuid": c, "ip": "192.0.2.101", "display_option": "month", "duration": 3600}, "display_option"),
        ("POST", "/v1/cluster/data/snapshot/config/update",
         {"cluster_uuid": c, "ip": "192.0.2.101", "display_option": "hour", "duration": 5400}, "duration"),
        ("POST", "/v1/cluster/compute/service/drsconfig/update",
         {"cluster_uuid": c, "config": {"DRS": {"ThresholdLevel": 6}}}, "config.DRS.ThresholdLevel"),
        ("POST", "/v1/cluster/compute/service/drsconfig/update",
         {"cluster_uuid": c, "config": {"DPM": {"LowThreshold": 0.9}}}, "config.DPM.LowThreshold"),
        ("POST", "/v1/cluster/set/global/config", {"cluster_uuid": c, "CPUOverAllocationThreshold": "high"},
         "CPUOverAllocationThreshold"),
        ("POST", "/v1/system/compute/version/upgrade",
         {"cluster_uuid": c, "list": [{"host_ip": "192.0.2.11", "service_type": "firmware"}]}, "list[0].service_type"),
        ("POST", "/v1/system/setting/update", {"cluster_uuid": c, "login_policy": {"token_expire_second": 1}},
         "login_policy.token_expire_second"),
    ]
    for method, path, params, name in cases:
        envelope = send(api, method, path, params)
        assert envelope["scode"] == INVALID, (path, envelope)
        assert f"'{name}'" in envelope["message"], envelope


def test_unknown_cluster_is_not_found_everywhere(api: Api, cvm_cluster: str) -> None:
    for path, (method, params, required) in valid_requests(api, cvm_cluster).items():
        if "cluster_uuid" not in required:
            continue
        envelope = send(api, method, path, dict(params, cluster_uuid="00000000-0000-0000-0000-000000000000"))
        assert envelope["scode"] == NOT_FOUND, (path, envelope)
        assert "not found" in envelope["message"] and "不存在" in envelope["message_cn"]


def test_unparsable_json_is_http_400_with_an_envelope(api: Api) -> None:
    response = requests.post(api.base_url + "/v1/cluster/add", data="{not json", timeout=10)
    assert response.status_code == 400
    assert response.json()["scode"] == 1001


def test_non_object_json_body_is_invalid(api: Api) -> None:
    response = requests.post(api.base_url + "/v1/cluster/add", json=[1, 2], timeout=10)
    assert response.status_code == 200 and response.json()["scode"] == INVALID


def test_unknown_endpoint_and_wrong_method(api: Api) -> None:
    response = requests.get(api.base_url + "/v1/cluster/nope", timeout=10)
    assert response.status_code == 404 and response.json()["scode"] == 1004
    response = requests.get(api.base_url + "/v1/cluster/add", timeout=10)
    assert response.status_code == 405 and response.json()["scode"] == 1005
