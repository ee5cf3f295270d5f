"""The committee's report: one self-contained HTML file per cycle and language.

``data`` reads what the report shows from the warehouse into typed rows; ``narrative``
turns them into the generated sentences (each top priority's rationale, what moved);
``charts`` draws the inline SVG charts (altair + vl-convert) and ``mapdata`` carries the
map's country shapes (``assets/``); ``render`` fills ``ideal/templates/report.html.j2``;
``i18n`` holds translations (gettext catalogs under ``ideal/locale``) and locale-aware
number and date formatting; ``pdf`` prints a report with headless Chromium. Modules are
imported explicitly; altair and vl-convert load only when a chart is drawn.
"""
