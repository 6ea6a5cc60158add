"""Documented-only answers: the ``data`` of an endpoint whose documents show an example answer is cut
down to the fields of that example (``doc_examples.json``, extracted from cluster-api.md and
system-api.md), recursively; the simulator's additions are kept only with ``--extensions fields``.

Endpoints whose documents show no answer (``storage_service/vm/list``, the deploy answers,
``inspection/progress``...) keep the shape docs/api-notes.md writes down for them: there is nothing
documented to cut them to.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EXAMPLES: dict[str, Any] = json.loads((Path(__file__).parent / "doc_examples.json").read_text())["examples"]
# inspection/progress shows no answer of its own: read with the start answer's shape (docs/api-notes.md)
EXAMPLES["/v1/cluster/inspection/progress"] = EXAMPLES["/v1/cluster/inspection"]
# fields a response table documents although its example leaves them out
EXAMPLES["/v1/cluster/get"].setdefault("tenants_uuid", [])  # cluster-api.md line 124
for _key in ("cpu", "mem", "net_riops", "net_wiops", "net_rmbps", "net_wmbps", "disk_riops", "disk_wiops",
             "disk_rspeed", "disk_wspeed", "disk_riowait", "disk_wiowait"):  # cluster-api.md lines 345-356
    EXAMPLES["/v1/cluster/top"].setdefault(f"{_key}_usage_info", EXAMPLES["/v1/cluster/top"]["list"])

# maps keyed by ids (etcd member ids, labels, cluster uuids, CIDRs, service types): every value is cut
# to the example's first value
ID_KEYED = frozenset({
    "etcd_network_peer_sent_bytes_total", "etcd_network_peer_sent_failures_total",
    "etcd_network_peer_received_bytes_total", "etcd_network_peer_round_trip_time_seconds_sum",
    "Label", "info", "HostIFacesInfo", "IFacesInfo", "type_version",
})
# objects whose example shows some keys set to null: the value's own fields are not documented
# further, so what the simulator puts there is kept (the services of a topology node)
OPAQUE = frozenset({"services"})


def prune(path: str, data: Any) -> Any:
    """``data`` with only the fields of the documents' example answer of ``path``."""
    example = EXAMPLES.get(path)
    if not example:  # no documented answer (or an empty one): nothing to cut to
        return data
    return _cut(data, example, "")


def _cut(actual: Any, example: Any, key: str) -> Any:
    if example is None or actual is None:
        return actual
    if isinstance(example, list):
        if not isinstance(actual, list) or not example:
            return actual
        return [_cut(item, example[0], key) for item in actual]
    if isinstance(example, dict):
        if not isinstance(actual, dict):
            return actual
        if key in OPAQUE:
            return {k: (_cut(v, example[k], k) if example.get(k) is not None else v)
                    for k, v in actual.items() if k in example}
        if key in ID_KEYED:
            if not example:
                return actual
            sample = next(iter(example.values()))
            return {k: _cut(v, sample, "") for k, v in actual.items()}
        return {k: _cut(v, example[k], k) for k, v in actual.items() if k in example}
    return actual
