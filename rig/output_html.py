"""Write report.html: one self-contained page (inline CSS, no scripts).

Top: where it ran, kernels and patches, verdicts, expectation mismatches.
Then the requirement x kernel/cell matrix; a failing matrix entry links to
that cell's logs (paths relative to the run directory). Then each cell's
cases.
"""
from html import escape
from urllib.parse import quote

import atomic_write
import output_json
import requirements as reqs

CSS = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: .5em 0; }
th, td { border: 1px solid #ccc; padding: .25em .5em; vertical-align: top; text-align: left; }
th { background: #f2f2f2; }
td.r { text-align: center; font-weight: 600; white-space: nowrap; }
.pass { background: #c8efc8; } .fail { background: #f7b8b8; }
.skip { background: #fbe7a6; } .not-run { background: #e6e6e6; color: #666; }
.todo { background: #dcd3f5; } .n-a { background: #f4f4f4; color: #777; font-weight: 400; }
.expected { background: #e8d3c3; }
.mismatch { outline: 3px solid #c00; outline-offset: -3px; }
.ok { color: #176317; } .bad { color: #a00; } .warn { color: #8a5a00; }
.box { border: 1px solid #ccc; padding: .5em 1em; margin: .5em 0; }
code, pre { font: 12px/1.3 ui-monospace, monospace; }
details pre { white-space: pre-wrap; word-break: break-all; max-width: 36em; }
small { color: #555; }
"""


def _link(path, text):
    return f'<a href="{escape(quote(path))}">{escape(text)}</a>'


def _log_links(cell):
    return " ".join(_link(p, kind) for kind, p in sorted(cell.logs.items(), reverse=True))


def _header(run):
    w = output_json.where(run)
    if w["kind"] == "qemu":
        where = (f"<b>QEMU</b>: {escape(w['description'] or '')}<br>"
                 f"<b>CPU models</b>: {escape(', '.join(w['cpu_models']))}<br>"
                 "<small>Emulated run: it shows KVM's stage-2 decisions; behavioural "
                 "memory-type checks that QEMU does not model are skipped, never passed. "
                 "Only hardware can show those.</small>")
    else:
        where = f"<b>Hardware</b>: {escape(w['description'] or '')}"
    rows = []
    for k, info in run.kernels.items():
        patches = info.get("patches") or []
        plist = ("<ol>" + "".join(f"<li><code>{escape(p)}</code></li>" for p in patches)
                 + "</ol>") if patches else "none"
        rows.append("<tr><th>%s</th><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>"
                    % (escape(k), escape(str(info.get("source_version") or "")),
                       escape(str(info.get("debian_version") or "")),
                       escape(str(info.get("kernelrelease") or "")),
                       escape(str(info.get("variant") or "")),
                       {True: "yes", False: "no"}.get(info.get("series_applied"), "unknown"),
                       plist))
    return (f"<h1>PFNMAP stage-2 conformance: run {escape(run.run_id)}</h1>"
            f"<p>{where}<br><b>Started</b>: {escape(run.started)} "
            f"<small>(host: {escape(w['host_uname'])})</small></p>"
            "<table><tr><th>kernel</th><th>source</th><th>Debian package</th>"
            "<th>release</th><th>variant</th><th>series applied</th><th>patches</th></tr>"
            + "".join(rows) + "</table>")


VERDICT_CLASS = {"conformant": "ok", "non-conformant": "bad", "incomplete": "warn"}


def _verdicts(run):
    parts = ['<div class="box"><h2>Verdict</h2><ul>']
    for k, v in run.verdicts.items():
        cls = VERDICT_CLASS.get(v.verdict, "bad")
        extra = ""
        if v.deciding:
            extra += "<br>decided by: " + escape(", ".join(v.deciding))
        if v.incomplete:
            extra += ("<br>incomplete: <ul>"
                      + "".join(f"<li>{escape(i)}</li>" for i in v.incomplete) + "</ul>")
        if v.not_applicable:
            extra += ("<small>not applicable here: " + escape("; ".join(
                f"{i} ({why})" for i, why in v.not_applicable.items())) + "</small>")
        if v.skipped:
            extra += "<br><small>skipped: " + escape(" ".join(v.skipped)) + "</small>"
        if v.not_run:
            extra += "<br><small>not run: " + escape(" ".join(v.not_run)) + "</small>"
        parts.append(f'<li><b>{escape(k)}</b>: <span class="{cls}">{v.verdict}</span>{extra}</li>')
    parts.append("</ul>")
    if run.mismatches:
        parts.append('<p class="bad"><b>Expectations NOT met</b> (SPEC: baseline fails/passes '
                     'as listed, every other kernel conformant):</p><ul>')
        parts += [f"<li>{escape(m)}</li>" for m in run.mismatches]
        parts.append("</ul>")
    else:
        parts.append('<p class="ok"><b>Expectations met.</b></p>')
    parts += [f'<p class="bad">warning: {escape(w)}</p>' for w in run.warnings]
    parts.append(f"<p>{escape(output_json.totals_text(run.totals()))}</p></div>")
    return "".join(parts)


def _cell_header(cell):
    mte = "MTE" if cell.mte else "no MTE"
    status_cls = "ok" if not cell.problems else "bad"
    dur = f"{cell.duration_s:.0f}s" if isinstance(cell.duration_s, (int, float)) else ""
    cmd = (f"<details><summary>QEMU command</summary><pre>{escape(cell.qemu_cmdline)}</pre></details>"
           if cell.qemu_cmdline else "")
    return (f'<th><a href="#{escape(cell.key)}">{escape(cell.kernel)}<br>{escape(cell.cell)}</a><br>'
            f"<small>{escape(cell.cpu)}, {escape(cell.mode)}, {mte}</small><br>"
            f'<span class="{status_cls}">{escape(cell.status)}</span> <small>{dur}</small>'
            f"<br><small>{_log_links(cell)}</small>{cmd}</th>")


def _matrix(run):
    per_cell = {c.key: c.requirement_results() for c in run.cells}
    head = ["<th>ID</th><th>requirement</th><th>baseline must</th>"]
    for k in run.kernels:
        head.append(f"<th>{escape(k)}<br><small>all cells</small></th>")
        head += [_cell_header(c) for c in run.cells_of(k)]
    rows = []
    for req_id, by_kernel in run.requirements.items():
        expected = reqs.baseline_expectation(req_id)
        tds = [f"<th>{escape(req_id)}</th><td>{escape(reqs.title(req_id))}</td>"
               f"<td>{escape(expected or '')}</td>"]
        for k in run.kernels:
            result = by_kernel[k]
            mismatch = (any(m.startswith(f"baseline {req_id}:") for m in run.mismatches)
                        if k == reqs.BASELINE else result == "fail")
            first_fail = next((c for c in run.cells_of(k)
                               if per_cell[c.key].get(req_id) == "fail"), None)
            missing = run.verdicts[k].not_applicable.get(req_id)
            if missing:
                tds.append(f'<td class="r n-a" title="{escape(missing)}">n/a<br>'
                           f"<small>{escape(missing)}</small></td>")
                continue
            tds.append(_result_td(result, first_fail, mismatch))
            for cell in run.cells_of(k):
                tds.append(_result_td(per_cell[cell.key].get(req_id, "not-run"),
                                      cell, False, _covering(cell, req_id)))
        rows.append("<tr>" + "".join(tds) + "</tr>")
    return ("<h2>Requirements</h2><table><tr>" + "".join(head) + "</tr>"
            + "".join(rows) + "</table>")


def _covering(cell, req_id):
    return "; ".join(f"{c.name}: {c.result}" for c in cell.cases if req_id in c.requirements)


def _result_td(result, cell, mismatch, title=""):
    cls = result + (" mismatch" if mismatch else "")
    text = escape(result)
    if result == "fail" and cell is not None and cell.logs:
        text = " ".join(_link(p, result if kind == "results" else kind)
                        for kind, p in sorted(cell.logs.items(), reverse=True))
    t = f' title="{escape(title)}"' if title else ""
    return f'<td class="r {cls}"{t}>{text}</td>'


def _cells(run):
    out = ["<h2>Cells</h2>"]
    for cell in run.cells:
        open_ = " open" if cell.problems or cell.count("fail") else ""
        out.append(f'<details id="{escape(cell.key)}"{open_}><summary><b>{escape(cell.key)}</b>: '
                   f"{escape(cell.status)}, {cell.count('pass')} passed, {cell.count('fail')} failed, "
                   f"{cell.count('skip')} skipped</summary>")
        out += [f'<p class="bad">{escape(p)}</p>' for p in cell.problems]
        out += [f'<p class="warn">warning: {escape(w)}</p>' for w in cell.warnings]
        if cell.tests != "*":
            out.append(f'<p class="warn">filtered: only tests matching '
                       f"<code>{escape(cell.tests)}</code></p>")
        env = " ".join(f"{k}={v}" for k, v in cell.env.items())
        prof = " ".join(f"{k}={v}" for k, v in cell.profile.items())
        out.append(f"<p><small>env: {escape(env) or 'none'}; profile: {escape(prof) or 'none'}; "
                   f"logs: {_log_links(cell) or 'none'}</small></p>")
        out.append("<table><tr><th>case</th><th>binary</th><th>REQ</th><th>result</th><th>reason</th></tr>")
        for c in cell.cases:
            out.append(f"<tr><td>{escape(c.name)}</td><td>{escape(c.binary)}</td>"
                       f"<td>{escape(' '.join(c.requirements))}</td>"
                       f"{_case_result_td(c)}<td>{escape(c.reason)}{_expected_note(c)}</td></tr>")
        out.append("</table></details>")
    return "".join(out)


def _case_result_td(case):
    if case.expected:
        return '<td class="r expected">fail<br><small>expected</small></td>'
    if case.kind not in ("", "failure"):
        return f'<td class="r fail">fail<br><small>{escape(case.kind)}</small></td>'
    return f'<td class="r {case.result}">{case.result}</td>'


def _expected_note(case):
    return f"<br><small>{escape(case.expected)}</small>" if case.expected else ""


def render(run):
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>PFNMAP conformance {escape(run.run_id)}</title><style>{CSS}</style></head><body>"
            + _header(run) + _verdicts(run) + _matrix(run) + _cells(run) + "</body></html>\n")


def write(run, path):
    atomic_write.write_text(path, render(run))
