"""The reliability report from a small fixed result set: short runs of two catalog entries under
both profiles, two analytic-twin points and one conformance component with a handful of examples.
The set is made once per module (a few seconds); every test reads the report built on it."""

from __future__ import annotations

import json
import os
from html.parser import HTMLParser
from pathlib import Path

import pytest

from rustok_sim.reports.conformance_runs import ConformancePlan
from rustok_sim.reports.report import ReportOptions, ReportOutcome, build_report
from rustok_sim.reports.twin import TwinPlan

SMALL = ReportOptions(
    out=Path("unused"),
    scenarios=("redis_outage", "flood_double_release"),
    overrides={
        "redis_outage": ("traffic.duration=24.0", "traffic.arrivals.rate=60.0", "traffic.outage.start=6.0",
                         "traffic.outage.duration=8.0", "traffic.breaker.timeout=3.0"),
        "flood_double_release": ("flood.duration=14.0", "flood.second_dispatcher.at=5.0"),
        "mmck": ("arrivals=2000",),
    },
    twin=TwinPlan(loads=(0.5, 1.5), arrivals=2000),
    conformance=ConformancePlan(components=("backpressure",), max_examples=5),
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> ReportOutcome:
    out = tmp_path_factory.mktemp("report")
    return build_report(SMALL.model_copy(update={"out": out}))


class _Page(HTMLParser):
    """Every tag's attributes, and the ids of the page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _page(outcome: ReportOutcome) -> _Page:
    page = _Page()
    page.feed(outcome.index.read_text(encoding="utf-8"))
    return page


def test_report_writes_every_figure_as_a_non_empty_png_and_svg(built: ReportOutcome) -> None:
    out = built.index.parent
    figures = built.summary["figures"]
    stems = {Path(name).with_suffix("") for name in figures}
    assert len(stems) >= 6  # two timelines, two latency charts, costs, twin, two state diagrams
    for stem in stems:
        for suffix in (".png", ".svg"):
            path = out / stem.with_suffix(suffix)
            assert path.is_file() and path.stat().st_size > 0, path
    assert {"figures/timeline-redis_outage.png", "figures/twin-mmck.png", "figures/defect-costs.svg",
            "figures/conformance-backpressure-faithful.png"} <= set(figures)


def test_report_includes_the_breaker_operating_curves_with_their_simulation_check(built: ReportOutcome) -> None:
    curves = built.summary["curves"]
    assert curves["included"], curves["note"]
    assert "curves-tradeoff" in curves["figures"] and curves["recommendation"]
    assert curves["simulation_checks"] and all(c["detection_agrees"] is not None for c in curves["simulation_checks"])


def test_report_html_references_only_inlined_images(built: ReportOutcome) -> None:
    page = _page(built)
    images = [attrs for tag, attrs in page.tags if tag == "img"]
    assert len(images) == len({Path(n).stem for n in built.summary["figures"]})
    for tag, attrs in page.tags:
        src = attrs.get("src")
        if src is not None:
            assert tag == "img" and src.startswith("data:image/png;base64,"), (tag, src[:60])
        href = attrs.get("href") or ""
        assert not href.startswith(("http:", "https:", "//")), href
    assert not any(tag in ("script", "link", "iframe") for tag, _ in page.tags)


def test_report_links_each_defect_to_its_trace_excerpt_and_explanation(built: ReportOutcome) -> None:
    page = _page(built)
    ids = {attrs["id"] for _, attrs in page.tags if attrs.get("id")}
    links = {attrs["href"] for tag, attrs in page.tags if tag == "a" and (attrs.get("href") or "").startswith("#")}
    defects = built.summary["defects"]
    assert {(d["entry"], d["profile"], d["invariant"]) for d in defects} >= {
        ("redis_outage", "faithful", "no_5xx_from_cache_outage"),
        ("flood_double_release", "faithful", "depth_bound"),
        ("flood_double_release", "hardened", "slot_conservation"),
    }
    for defect in defects:
        anchor = f"ex-{defect['entry']}-{defect['profile']}-{defect['invariant']}"
        assert anchor in ids and f"#{anchor}" in links
        assert defect["excerpt_lines"], defect
        excerpt = (built.index.parent / defect["excerpt_file"]).read_text(encoding="utf-8").splitlines()
        assert len(excerpt) == len(defect["excerpt_lines"]) and all(json.loads(line) for line in excerpt)
    explanations = [link for link in links if link.startswith("#doc-")]
    assert explanations and all(link[1:] in ids for link in explanations)
    assert all(link[1:] in ids for link in links)  # no in-page link points nowhere


def test_report_shows_the_cost_of_each_defect_in_numbers(built: ReportOutcome) -> None:
    rows = {row["measure"]: row for row in built.summary["costs"]["redis_outage"]}
    failed = rows["requests answered 5xx"]
    assert failed["faithful"] > 0 and failed["hardened"] == 0 and failed["faithful_worse"]
    loads = rows["database loads"]
    assert loads["hardened"] > loads["faithful"]  # the fallback's price: the database serves the outage


def test_report_validates_the_twin_with_intervals_and_one_statement(built: ReportOutcome) -> None:
    twin = built.summary["twin"]
    assert [p["lambda"] for p in twin["points"]] == [5.0, 15.0]
    for point in twin["points"]:
        low, high = point["ci95"]
        assert low <= point["p_block"] <= high and 0 < point["analytic"] < 1
    assert twin["statement"].startswith("Model error: ") and "\n" not in twin["statement"]


def test_report_summarises_conformance_with_coverage(built: ReportOutcome) -> None:
    suites = built.summary["conformance"]["suites"]
    assert [(s["component"], s["variant"]) for s in suites] == [("backpressure", "faithful"),
                                                                 ("backpressure", "hardened")]
    assert all(s["edges"] > 0 and s["covered"] > 0 for s in suites)


def test_report_from_stored_results_runs_nothing(built: ReportOutcome) -> None:
    out = built.index.parent
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("runs/*/result.json")}
    again = build_report(SMALL.model_copy(update={"out": out}))
    assert again.ran == 0 and again.reused == built.ran + built.reused
    assert {p: p.stat().st_mtime_ns for p in out.glob("runs/*/result.json")} == stamps
    assert again.summary["defects"] == built.summary["defects"]


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is not installed (Debian package chromium)"
    if os.environ.get("CI_REQUIRE_CHROMIUM") == "1":
        pytest.fail(f"CI_REQUIRE_CHROMIUM=1 but {reason}")
    pytest.skip(reason)


def test_report_opens_in_headless_chromium_with_every_image_loaded(built: ReportOutcome, tmp_path: Path) -> None:
    _require_chromium()
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on("requestfailed", lambda request: problems.append(f"request failed: {request.url}"))
            page.goto(built.index.resolve().as_uri(), wait_until="load")
            images = page.evaluate("Array.from(document.images).map(i => [i.complete, i.naturalWidth])")
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        finally:
            browser.close()
    assert problems == []
    assert images and all(complete and width > 0 for complete, width in images), images
    assert (tmp_path / "report.png").stat().st_size > 0
