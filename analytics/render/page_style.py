"""The page's stylesheet, inlined into report.html: system fonts only, readable on screen and on paper."""

CSS = """
:root {
  --ink: #1f2933; --muted: #616e7c; --line: #e4e7eb; --bg: #f5f7fa; --card: #ffffff;
  --neg: #b23b25; --pos: #1f5f96; --accent: #2f6fa7;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; background: var(--bg); color: var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
.report { max-width: 1120px; margin: 0 auto; padding: 32px 24px 48px; }
h1 { font-size: 28px; line-height: 1.2; margin: 0 0 4px; letter-spacing: -0.01em; }
h2 { font-size: 20px; margin: 0 0 4px; }
h3 { font-size: 15px; margin: 0 0 8px; text-transform: uppercase; letter-spacing: 0.04em; color: var(--muted); }
p { margin: 0 0 12px; }
.masthead { border-bottom: 3px solid var(--accent); padding-bottom: 16px; margin-bottom: 24px; }
.masthead .sub { font-size: 17px; color: var(--muted); margin: 0 0 10px; }
.meta { display: flex; flex-wrap: wrap; gap: 4px 24px; margin: 0; font-size: 13px; color: var(--muted); }
.meta div { display: flex; gap: 6px; }
.meta dt { font-weight: 600; }
.meta dd { margin: 0; }
.cards { display: grid; gap: 16px; margin-bottom: 24px; }
.kpis { grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); }
.glance { grid-template-columns: repeat(auto-fit, minmax(250px, 1fr)); }
.card {
  background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 16px 18px;
  box-shadow: 0 1px 2px rgba(31, 41, 51, 0.06); break-inside: avoid;
}
.kpi .label { font-size: 13px; color: var(--muted); text-transform: uppercase; letter-spacing: 0.04em; }
.kpi .value { font-size: 34px; font-weight: 700; line-height: 1.15; font-variant-numeric: tabular-nums; }
.kpi .detail { font-size: 13px; color: var(--muted); }
.chip { display: inline-block; border-radius: 999px; padding: 1px 9px; font-size: 13px; font-weight: 600;
        background: #eef1f4; color: var(--muted); }
.chip.pos { background: #e3eef8; color: var(--pos); }
.chip.neg { background: #f8e6e2; color: var(--neg); }
.glance ol { margin: 0; padding-left: 20px; }
.glance li { margin: 2px 0; }
.glance .fig { font-variant-numeric: tabular-nums; font-weight: 600; }
.glance .fig.line { display: block; font-weight: 500; color: var(--muted); font-size: 13.5px; }
.glance .empty { color: var(--muted); }
section.block { background: var(--card); border: 1px solid var(--line); border-radius: 10px;
                padding: 20px 22px; margin-bottom: 24px; }
section.block > .lead { color: var(--muted); max-width: 80ch; }
figure { margin: 8px 0 16px; }
/* natural size (never scaled up, so every chart keeps the same type size), shrunk to fit */
figure svg { display: block; height: auto; max-width: 100%; margin: 0 auto; }
.pair { display: grid; gap: 24px; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); }
.scroll { overflow-x: auto; }
table.data { border-collapse: collapse; width: 100%; font-size: 13.5px; font-variant-numeric: tabular-nums; }
table.data th, table.data td { padding: 6px 10px; border-bottom: 1px solid var(--line); text-align: left;
                               vertical-align: top; }
table.data thead th { font-size: 12px; text-transform: uppercase; letter-spacing: 0.03em; color: var(--muted);
                      border-bottom: 2px solid #cbd2d9; }
table.data tbody tr:nth-child(even) { background: #fafbfc; }
table.data .num { text-align: right; white-space: nowrap; }
table.data .neg { color: var(--neg); }
table.data .pos { color: var(--pos); }
table.data .small { color: #9aa5b1; }
table.data .total { font-weight: 600; }
table.data .nowrap { white-space: nowrap; }
.pair > div { min-width: 0; }
table.data td.empty { color: var(--muted); text-align: center; }
.note { font-size: 13px; color: var(--muted); margin-top: 8px; }
footer { font-size: 12px; color: var(--muted); text-align: center; margin-top: 32px; }
@media print {
  body { background: #fff; font-size: 12px; }
  .report { max-width: none; padding: 0; }
  .card, section.block { box-shadow: none; border-color: #cbd2d9; }
  section.block { break-inside: avoid-page; }
  figure svg { max-width: 100%; }
}
"""
