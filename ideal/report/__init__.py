"""The committee's report: one self-contained HTML file per cycle and language.

``render`` reads the warehouse and fills ``ideal/templates/report.html.j2``; ``charts``
draws the inline SVG charts; ``i18n`` holds translations (gettext catalogs under
``ideal/locale``) and locale-aware number and date formatting. Modules are imported
explicitly; altair and vl-convert load only when a chart is drawn.
"""
