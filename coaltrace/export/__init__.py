"""Files coaltrace writes for people to open: lists in every `--format` (`formats`), and the
analysts' exports of a period's flows, findings, facilities and graph (`run`, `tables`, `geo`).

Every cell is made safe to open in a spreadsheet. A cell that starts like a formula (`=HYPERLINK(...)`, `+cmd|' /C calc'!A0`,
`@SUM(1)`, `-2+3`) is run by Excel, WPS or LibreOffice when the file is opened:
the data came from whoever filled in a register, so a finding's evidence could
carry one. Every CSV and XLSX cell coaltrace exports goes through
`spreadsheet_cell` (or `spreadsheet_frame`, the same rule on whole columns),
which prefixes such a cell with a single quote as OWASP
advises; numbers stored as numbers stay numbers.
"""

from coaltrace.export.cells import spreadsheet_cell, spreadsheet_frame, write_csv

__all__ = ["spreadsheet_cell", "spreadsheet_frame", "write_csv"]
