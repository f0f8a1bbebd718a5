// The stylesheet (served from a content-hashed URL; CSP allows no inline styles). Colours meet WCAG AA.
export const STYLES = `
:root{--fg:#1b1f24;--muted:#4a5360;--bg:#f6f7f9;--card:#fff;--line:#cfd6de;--brand:#0b5cad;--brand-d:#084783;
--ok:#1d6b34;--warn:#8a4b00;--bad:#a3161b;--focus:#ffbf47;font-size:112.5%}
*{box-sizing:border-box}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;color:var(--fg);background:var(--bg);line-height:1.5}
a{color:var(--brand)}a:hover{color:var(--brand-d)}
:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
.skip{position:absolute;left:-999px;top:0;background:var(--card);padding:.5rem 1rem;z-index:10}
.skip:focus{left:.5rem}
header.top{background:#0d2a4a;color:#fff;display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1.5rem;padding:.5rem 1rem}
header.top a{color:#fff}
.brand{font-weight:700;font-size:1.2rem;text-decoration:none}
.brand small{font-weight:400;opacity:.9;font-size:.8rem;margin-left:.4rem}
nav.main ul{list-style:none;display:flex;flex-wrap:wrap;gap:.25rem;margin:0;padding:0}
nav.main a{display:block;padding:.35rem .6rem;border-radius:4px;text-decoration:none}
nav.main a[aria-current=page]{background:#fff;color:#0d2a4a;font-weight:600}
nav.main a:hover{text-decoration:underline}
.who{margin-left:auto;display:flex;gap:.75rem;align-items:center;font-size:.9rem}
.who form{margin:0}
.who button{background:transparent;color:#fff;border:1px solid #fff;padding:.2rem .6rem}
main{max-width:72rem;margin:0 auto;padding:1rem}
h1{font-size:1.6rem;margin:.5rem 0 1rem}h2{font-size:1.25rem;margin:1.5rem 0 .5rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:1rem;margin:0 0 1rem}
.stats{display:grid;grid-template-columns:repeat(auto-fit,minmax(11rem,1fr));gap:.75rem;margin:0 0 1rem;padding:0;list-style:none}
.stats li{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:.75rem}
.stats .v{display:block;font-size:1.6rem;font-weight:700}
.stats .l{color:var(--muted);font-size:.9rem}
table{border-collapse:collapse;width:100%;background:var(--card)}
th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid var(--line);vertical-align:top}
th{background:#eef1f5;font-weight:600}
caption{text-align:left;font-weight:600;padding:.4rem 0}
.num{text-align:right;font-variant-numeric:tabular-nums}
form.stack{display:grid;gap:.9rem;max-width:36rem}
.field{display:grid;gap:.25rem}
label{font-weight:600}
.hint{color:var(--muted);font-size:.9rem;margin:0}
input[type=text],input[type=email],input[type=password],input[type=tel],input[type=number],input[type=time],input[type=search],select,textarea{font:inherit;padding:.45rem .55rem;border:1px solid #6b7785;border-radius:4px;background:#fff;color:var(--fg);width:100%}
input[aria-invalid=true],select[aria-invalid=true]{border:2px solid var(--bad)}
.check{display:flex;gap:.5rem;align-items:flex-start}.check input{margin-top:.35rem;width:1.1rem;height:1.1rem}
fieldset{border:1px solid var(--line);border-radius:6px;padding:.5rem .9rem}
legend{font-weight:600}
.days{display:flex;flex-wrap:wrap;gap:.25rem 1rem}
button,.button{font:inherit;display:inline-block;background:var(--brand);color:#fff;border:0;border-radius:4px;padding:.5rem 1rem;cursor:pointer;text-decoration:none}
button:hover,.button:hover{background:var(--brand-d);color:#fff}
button.secondary,.button.secondary{background:#fff;color:var(--brand);border:1px solid var(--brand)}
button.danger,.button.danger{background:var(--bad)}
button.link{background:none;color:var(--brand);padding:0;text-decoration:underline}
button:disabled{background:#8a949e;cursor:not-allowed}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin:.5rem 0}
.actions form{margin:0}
.msg{padding:.6rem .9rem;border-radius:4px;margin:0 0 1rem;border-left:5px solid}
.msg.ok{background:#e6f4ea;border-color:var(--ok)}
.msg.err{background:#fbe9ea;border-color:var(--bad)}
.msg.warn{background:#fff4e0;border-color:var(--warn)}
.err-text{color:var(--bad);font-weight:600;margin:0}
.muted{color:var(--muted)}
.badge{display:inline-block;padding:0 .45rem;border-radius:3px;font-size:.85rem;border:1px solid currentColor}
.badge.ok{color:var(--ok)}.badge.bad{color:var(--bad)}.badge.warn{color:var(--warn)}
.turn{margin:.4rem 0;padding:.5rem .75rem;border-radius:6px;background:#eef1f5;max-width:46rem}
.turn.assistant{background:#e3eefb;margin-left:2rem}
.turn .speaker{display:block;font-size:.85rem;color:var(--muted)}
.turn.interrupted{border-left:4px solid var(--warn)}
.chart{margin:0}.chart svg{width:100%;max-width:40rem;height:auto;display:block}
.chart .axis{stroke:#6b7785;stroke-width:1}
.chart .zero{stroke:#6b7785;stroke-dasharray:4 3}
.chart .line{fill:none;stroke:var(--brand);stroke-width:3}
.chart circle{fill:var(--brand)}
.chart circle:focus,.chart circle:hover{fill:var(--focus);stroke:#000;stroke-width:2;outline:none}
.chart text{font-size:12px;fill:#333}
.chart .tip{min-height:1.5em;margin:.25rem 0}
.island{display:contents}
.log{font-family:ui-monospace,monospace;font-size:.85rem;max-height:22rem;overflow:auto;background:#101820;color:#e8edf2;padding:.5rem;border-radius:4px;margin:0;list-style:none}
.log li{padding:.1rem 0;border-bottom:1px solid #2a3642}
.log ol{list-style:none;margin:0;padding:0}
meter{width:100%;height:1.5rem}
pre.report{white-space:pre-wrap;background:#101820;color:#e8edf2;padding:.75rem;border-radius:4px;font-size:.85rem;overflow:auto}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0}
dl.facts dt{font-weight:600}dl.facts dd{margin:0}
.sr-only{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0,0,0,0);border:0}
@media (prefers-reduced-motion:reduce){*{transition:none!important;animation:none!important}}
`;
