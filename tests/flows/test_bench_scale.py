"""flows.bench_scale: each step's peaks come from the samples taken while it ran."""
from __future__ import annotations

from pathlib import Path

from flows.bench_scale import Sample, folder_mb, render_peaks, step_peaks


def test_each_step_gets_the_peaks_of_its_own_samples() -> None:
    # three steps of 2, 3 and 1 s ending at t = 10: [4, 6], [6, 9], [9, 10]
    timeline = [Sample(at=4.0 + 0.5 * i, flow_mb=100.0 + i, worker_mb=50.0 * (i % 3),
                       build_mb=10.0 * i) for i in range(13)]
    peaks = step_peaks(timeline, {"load": 2.0, "marts": 3.0, "serving": 1.0}, ended=10.0)
    assert [p.step for p in peaks] == ["load", "marts", "serving"]
    inside = {"load": timeline[0:5], "marts": timeline[4:11], "serving": timeline[10:13]}
    for peak in peaks:
        samples = inside[peak.step]
        assert peak.flow_mb == max(s.flow_mb for s in samples)
        assert peak.worker_mb == max(s.worker_mb for s in samples)
        assert peak.build_mb == max(s.build_mb for s in samples)


def test_the_build_folder_size_counts_every_file_below_it(tmp_path: Path) -> None:
    (tmp_path / "parts" / "bucket-0").mkdir(parents=True)
    (tmp_path / "build.duckdb").write_bytes(b"x" * 2**20)
    (tmp_path / "parts" / "bucket-0" / "t.parquet").write_bytes(b"x" * 2**19)
    assert folder_mb(tmp_path) == 1.5
    assert folder_mb(tmp_path / "missing") == 0.0


def test_the_peaks_table_has_a_row_per_step() -> None:
    from flows.bench_scale import ScaleRun, StepPeak

    run = ScaleRun(1, 12, 100, 60.0, 40.0, 2000.0, 3000.0, {"load": 20.0, "marts": 40.0},
                   (StepPeak("load", 20.0, 3000.0, 0.0, 500.0),
                    StepPeak("marts", 40.0, 1000.0, 2000.0, 900.0)))
    table = render_peaks([run])
    assert len(table) == 4 and "| 1 | 12 | marts | 40 | 1,000 | 2,000 | 900 |" in table
