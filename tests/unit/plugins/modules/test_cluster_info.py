# Copyright (c) tos.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""tos.cloud.cluster_info: one or all clusters, only the sections asked for, every page."""

from __future__ import annotations

from ansible_collections.tos.cloud.plugins.modules import cluster_info
from ansible_collections.tos.cloud.tests.unit.plugins.modules.cluster_harness import FakePlatform
from ansible_collections.tos.cloud.tests.unit.plugins.modules.harness import run_module


def run(platform, capsys, **args):
    return run_module(cluster_info.main, args, platform, capsys, check_mode=args.pop("check_mode", False))


def two_clusters():
    platform = FakePlatform()
    prod = platform.add_cluster("生产", "192.0.2.11")
    platform.add_cluster("生产-2", "198.51.100.11")
    platform.add_cvm(prod, "h-a1", "192.0.2.101/24")
    return platform


def test_sections_keep_the_documented_order_and_all_means_every_one():
    assert cluster_info.sections_to_gather(["top", "storage", "top"]) == ["top", "storage"]
    assert cluster_info.sections_to_gather(["all", "top"]) == list(cluster_info.SECTIONS)
    assert cluster_info.sections_to_gather([]) == []


def test_every_section_has_a_reader():
    for name in cluster_info.SECTIONS:
        assert callable(getattr(cluster_info.Gatherer, name))


def test_all_clusters_without_sections_reads_only_list_and_get(capsys):
    platform = two_clusters()
    result = run(platform, capsys)
    assert not result["changed"]
    assert [c["name"] for c in result["clusters"]] == ["生产", "生产-2"]
    assert {path for dummy, path in platform.calls} == {"/v1/cluster/list", "/v1/cluster/get"}
    assert "cluster" not in result


def test_one_cluster_by_exact_name_with_sections(capsys):
    platform = two_clusters()
    result = run(platform, capsys, cluster="生产", gather=["storage", "cvms", "snapshots"])
    one = result["cluster"]
    assert result["clusters"] == [one]
    assert one["name"] == "生产" and one["candidates"] == ["192.0.2.101"]
    assert one["storage"] == {"inner": {"total_size": 1}, "external": {"total_size": 0}}
    assert [c["ip"] for c in one["cvms"]] == ["192.0.2.101"] and one["cvms"][0]["host_uuid"] == "h-a1"
    assert one["snapshots"] == ["snapshot1.db"]
    assert "top" not in one and "compute" not in one


def test_snapshots_of_a_cluster_without_center_node_are_empty(capsys):
    platform = two_clusters()
    result = run(platform, capsys, cluster="生产-2", gather=["snapshots"])
    assert result["cluster"]["snapshots"] == []
    assert ("GET", "/v1/cluster/data/snapshot/list") not in platform.calls


def test_compute_reads_every_page(capsys):
    platform = two_clusters()
    result = run(platform, capsys, cluster="生产", gather=["compute"])
    assert [h["HostUUID"] for h in result["cluster"]["compute"]["HostStatistics"]] == ["h0", "h1", "h2", "h3", "h4"]


def test_unknown_cluster_fails_naming_it_and_the_known_ones(capsys):
    platform = two_clusters()
    result = run(platform, capsys, cluster="测试")
    assert result["failed"]
    assert result["msg"] == "cluster: no cluster is named '测试' or has that UUID (known clusters: 生产, 生产-2)."


def test_runs_in_check_mode(capsys):
    platform = two_clusters()
    result = run(platform, capsys, cluster="生产", check_mode=True)
    assert not result["changed"] and result["cluster"]["name"] == "生产"
