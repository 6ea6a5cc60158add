"""tos.cloud.events against inspection answers shaped as cluster-api.md shows them (hunt-2).

The documents' inspection answers (``/v1/cluster/inspection`` and ``/inspection/stop``, which
``inspection/progress`` is read like) carry ``"status": {..., "UUID": ""}`` and no ``start_time``: an inspection run
has no identity.  Two different finished inspections must still be told apart by what they found."""
from __future__ import annotations


def documented(fault, alarm, score, items):
    """A finished inspection as the documented example shapes it (status.UUID "", no start_time)."""
    return {"status": {"code": 0, "message": "", "messageCn": "", "stack": None, "desc": "", "UUID": ""},
            "normal": 3, "alarm": alarm, "fault": fault, "score": score, "system": items, "network": [],
            "hardware": [], "state": 2, "finishedPercent": 100, "checking": ""}


class Answers:
    def __init__(self, data):
        self.data = data

    def get(self, path, params=None):
        assert path == "/v1/cluster/inspection/progress"
        return self.data


CLUSTER = {"uuid": "c-1", "name": "c1"}
FIRST = documented(0, 1, 95, [{"item": "metadata_backup", "name": "metadata backup", "target": "c1",
                               "status": "alarm"}])
SECOND = documented(1, 1, 75, [{"item": "metadata_backup", "name": "metadata backup", "target": "c1",
                                "status": "alarm"},
                               {"item": "manager_service", "name": "manager", "target": "manager",
                                "status": "fault"}])


def test_a_second_inspection_without_an_id_still_raises_its_events(events):
    first = events["read_inspection"](Answers(FIRST), "c-1", None)
    second = events["read_inspection"](Answers(SECOND), "c-1", first)
    found = [(kind, before, after) for kind, _subject, _cluster, _host, before, after, _extra
             in events["_diff_inspection"](CLUSTER, first, second)]
    assert ("cluster_status_changed", "alarm", "fault") in found, found
    assert ("cluster_score_changed", 95, 75) in found, found
    assert ("fault_raised", "normal", "fault") in found, found


def test_the_same_inspection_read_again_raises_nothing(events):
    first = events["read_inspection"](Answers(FIRST), "c-1", None)
    again = events["read_inspection"](Answers(FIRST), "c-1", first)
    assert list(events["_diff_inspection"](CLUSTER, first, again)) == []
