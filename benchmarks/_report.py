"""Tables as plain text, CSV and markdown."""

import csv
import textwrap

from ._common import fmt


def _cells(section):
    return [[fmt(v) for v in row] for row in section.rows]


def text_table(headers, rows):
    """Aligned plain-text table: first column left-aligned, the others right-aligned."""
    widths = [max([len(str(h)), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]

    def line(cells):
        first = str(cells[0]).ljust(widths[0])
        rest = [str(c).rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join([first, *rest]).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), sep, *(line(r) for r in rows)])


def markdown_table(headers, rows):
    out = ["| " + " | ".join(map(str, headers)) + " |"]
    out.append("|" + "|".join("---" for _ in headers) + "|")
    out += ["| " + " | ".join(map(str, r)) + " |" for r in rows]
    return "\n".join(out)


def target_rows(sections):
    rows = []
    for sec in sections:
        for t in sec.targets:
            status = "n/a" if t.met is None else ("MET" if t.met else "MISSED")
            rows.append([t.name, t.goal, t.measured, status])
    return rows


TARGET_HEADERS = ["target", "goal", "measured", "status"]


def render_text(header_lines, info, sections):
    out = [*header_lines, ""]
    width = max(len(label) for label, _ in info)
    out += [f"{label.ljust(width)} : {value}" for label, value in info]
    for sec in sections:
        out += ["", "=" * min(100, max(len(sec.title), 40)), sec.title, ""]
        out.append(text_table(sec.headers, _cells(sec)))
        for note in sec.notes:
            out.append(textwrap.fill(note, 100, initial_indent="  * ", subsequent_indent="    "))
    out += ["", "=" * 40, "Targets", "", text_table(TARGET_HEADERS, target_rows(sections))]
    return "\n".join(out) + "\n"


def render_markdown(title, header_lines, info, sections):
    out = [f"# {title}", ""]
    out += [line + "  " for line in header_lines]
    out += ["", "## Targets", "", markdown_table(TARGET_HEADERS, target_rows(sections))]
    out += ["", "## Machine", ""]
    out += [f"- **{label}**: {value}" for label, value in info]
    for sec in sections:
        out += ["", f"## {sec.title}", "", markdown_table(sec.headers, _cells(sec)), ""]
        out += [f"- {note}" for note in sec.notes]
    return "\n".join(out) + "\n"


def write_csv(path, mode, info, sections):
    """Long format: one line per table cell (row = index within its table), plus
    machine info and targets."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["mode", "section", "row", "column", "value"])
        for label, value in info:
            w.writerow([mode, "machine", label, "", value])
        for sec in sections:
            for i, row in enumerate(sec.rows):
                for header, value in zip(sec.headers, row, strict=True):
                    w.writerow([mode, sec.key, i, header, "" if value is None else value])
        for row in target_rows(sections):
            w.writerow([mode, "targets", row[0], "measured", row[2]])
            w.writerow([mode, "targets", row[0], "status", row[3]])
