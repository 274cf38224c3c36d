"""Reliability reports: pure functions from results and traces to figures and HTML.

Will hold: matplotlib plots (Agg), state diagrams read from the model's transition tables,
timelines, threshold-sweep tables and a self-contained HTML report.
"""
