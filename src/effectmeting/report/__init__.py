"""Report building blocks: style, labels (nl/en), figures, tables and the HTML report.

Figures and tables are drawn from tidy DataFrames, never from estimator internals, so any
estimator whose results implement ``tidy()`` can be reported.
"""
from effectmeting.report.figures import (cohort_trends_plot, cost_by_domain_plot, cost_effect_summary_plot,
                                         event_study_plot, forest_plot)
from effectmeting.report.html import Section, build_report, write_report
from effectmeting.report.i18n import t
from effectmeting.report.labels import (cost_line_label, design_label, estimator_label, label, outcome_label,
                                        unit_label)
from effectmeting.report.number_format import format_number, format_percent
from effectmeting.report.study_figures import (domain_cost_plot, study_cohort_trends_plot,
                                               study_event_study_plot, study_forest_plot)
from effectmeting.report.style import FigureSpec, apply_style
from effectmeting.report.tables import TableSpec, estimates_table, write_table

__all__ = ["FigureSpec", "Section", "TableSpec", "apply_style", "build_report", "cohort_trends_plot",
           "cost_by_domain_plot", "cost_effect_summary_plot", "cost_line_label", "design_label", "domain_cost_plot",
           "estimates_table", "estimator_label", "event_study_plot", "forest_plot", "format_number",
           "format_percent", "label", "outcome_label", "study_cohort_trends_plot", "study_event_study_plot",
           "study_forest_plot", "t", "unit_label", "write_report", "write_table"]
