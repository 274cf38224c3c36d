"""results.csv: appended run by run, a new metric widens the header, a cut line is dropped."""

from __future__ import annotations

import math

from rustok_sim.reports.sweep.store import ResultsStore


def test_rows_are_appended_and_a_new_metric_widens_the_header(tmp_path):
    store = ResultsStore(tmp_path, ["timeout"])
    store.add(["5"], 1, {"failed": 3, "p99": 0.25})
    store.add(["5"], 2, {"failed": 4, "p99": math.nan})
    assert (tmp_path / "results.csv").read_text() == "timeout,seed,failed,p99\n5,1,3,0.25\n5,2,4,nan\n"
    store.add(["10"], 1, {"failed": 1, "p99": 0.5, "http_status_counts.500": 2})
    assert (tmp_path / "results.csv").read_text() == (
        "timeout,seed,failed,http_status_counts.500,p99\n5,1,3,,0.25\n5,2,4,,nan\n10,1,1,2,0.5\n")


def test_reading_back_drops_a_line_cut_in_half_and_keeps_values_exact(tmp_path):
    (tmp_path / "results.csv").write_text("timeout,seed,failed,p99\n5,1,3,0.1\n5,2,4,0.30000000000000004\n10,1,1,0.")
    store = ResultsStore(tmp_path, ["timeout"])
    store.load()
    assert store.dropped == 1
    assert store.rows == {(("5",), 1): {"failed": 3, "p99": 0.1}, (("5",), 2): {"failed": 4, "p99": 0.30000000000000004}}
    assert (tmp_path / "results.csv").read_text().endswith("5,2,4,0.30000000000000004\n")


def test_the_finished_file_is_in_the_order_given(tmp_path):
    store = ResultsStore(tmp_path, ["timeout"])
    for cells, seed in ((["10"], 2), (["5"], 1), (["10"], 1), (["5"], 2)):
        store.add(cells, seed, {"failed": seed})
    store.finish([(("5",), 1), (("5",), 2), (("10",), 1), (("10",), 2)])
    lines = (tmp_path / "results.csv").read_text().splitlines()
    assert lines[1:] == ["5,1,1", "5,2,2", "10,1,1", "10,2,2"]
