// The operator UI's page and style. It is a client of the admin API (/api/v1/audit, /explain,
// /reach, /org-tree, /run-timelines) with the admin token the operator types in, kept in
// sessionStorage for the tab. Audit events carry text that callers chose (session names, user
// agents, claims), so the scripts only ever set textContent, and the CSP allows no inline script or
// style. The scripts are in the *-js.ts files next to this one.

export const UI_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gatepass</title>
<link rel="stylesheet" href="/ui/app.css">
<script type="module" src="/ui/app.js"></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header>
  <h1>gatepass</h1>
  <nav id="nav" aria-label="Views" hidden>
    <a href="#audit" data-view="audit">Audit log</a>
    <a href="#graph" data-view="graph">Reach</a>
    <a href="#runs" data-view="runs">Runs</a>
  </nav>
  <button id="signout" hidden>Sign out</button>
</header>
<main id="main" tabindex="-1">
<section id="signin" hidden>
  <h2>Sign in</h2>
  <form id="signin-form">
    <label>Admin token <input id="token" type="password" autocomplete="off" required></label>
    <button type="submit">Sign in</button>
  </form>
  <p class="hint">The token is in <code>&lt;data dir&gt;/admin-token</code>. It stays in this tab only.</p>
</section>
<section id="audit" hidden>
  <h2>Audit log</h2>
  <form id="filters">
    <label>Decision <select name="decision">
      <option value="">any</option><option>deny</option><option>allow</option><option>error</option><option>info</option>
    </select></label>
    <label>Action <input name="action" placeholder="sts:AssumeRoleWithWebIdentity"></label>
    <label>Role <input name="role" placeholder="role ARN"></label>
    <label>Run <input name="run" placeholder="run-…"></label>
    <label>Request <input name="request" placeholder="request id"></label>
    <label>Since <input name="since" value="24h" placeholder="15m, 2h, 7d or ISO 8601"></label>
    <button type="submit">Search</button>
  </form>
  <div class="scroll"><table id="events"><thead><tr>
    <th>time</th><th>decision</th><th>action</th><th>reason</th><th>role</th><th>who</th><th>run</th><th>target</th><th>request</th><th></th>
  </tr></thead><tbody></tbody></table></div>
  <p id="empty" hidden>No matching events.</p>
</section>
<section id="explain" hidden>
  <h2>Why: <span id="explain-id"></span></h2>
  <button id="back">Back to the audit log</button>
  <div id="decisions"></div>
  <details class="text" open>
    <summary>As text</summary>
    <button class="copy" data-copy="explanation">Copy</button>
    <pre id="explanation"></pre>
  </details>
</section>
<section id="graph" hidden>
  <h2>Who can reach what</h2>
  <p class="hint">Run phases of workspaces → hub roles → member roles, grouped by OU and account; each
  arrow is labelled by the condition that admits it. Select an arrow (Tab, then Enter) for its explanation.</p>
  <div id="findings"></div>
  <div class="graph-layout">
    <div id="canvas" class="scroll" aria-label="Reachability graph"></div>
    <aside id="edge-panel" hidden aria-labelledby="edge-title">
      <h3 id="edge-title" tabindex="-1"></h3>
      <button id="edge-close">Close</button>
      <div id="edge-body"></div>
    </aside>
  </div>
  <details id="edge-list"><summary>Every arrow as a list</summary><ul></ul></details>
  <p id="graph-status" class="hint" role="status"></p>
</section>
<section id="runs" hidden>
  <h2>Runs</h2>
  <div class="scroll"><table id="run-list"><thead><tr>
    <th>run</th><th>workspace</th><th>status</th><th>plan</th><th>apply</th><th>tokens</th><th>opened</th>
  </tr></thead><tbody></tbody></table></div>
  <p id="runs-empty" hidden>No runs yet.</p>
</section>
<section id="run" hidden>
  <h2>Run <span id="run-id"></span></h2>
  <a href="#runs">All runs</a>
  <div id="run-body"></div>
</section>
<p id="error" role="alert" hidden></p>
</main>
</body>
</html>
`;

export const UI_CSS = `body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1d1d1f; }
header { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; padding: .5rem 1rem; background: #1d2b3a; color: #fff; }
header h1 { font-size: 1.1rem; margin: 0; }
nav { display: flex; gap: .75rem; flex: 1; }
nav a { color: #cfe3ff; white-space: nowrap; }
nav a[aria-current="page"] { color: #fff; font-weight: 600; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: .5rem; top: .5rem; background: #fff; padding: .25rem; z-index: 10; }
main { padding: 1rem; max-width: 100%; box-sizing: border-box; }
:focus-visible { outline: 3px solid #1a73e8; outline-offset: 2px; }
form { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: end; margin-bottom: 1rem; }
label { display: flex; flex-direction: column; font-size: .85rem; }
button { font: inherit; padding: .2rem .6rem; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; width: 100%; font-size: .85rem; }
th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #ddd; vertical-align: top; }
td { overflow-wrap: anywhere; }
td:last-child, td:first-child { white-space: nowrap; }
tr.deny td, tr.error td { background: #fff3f0; }
pre { background: #f6f8fa; padding: 1rem; overflow-x: auto; white-space: pre-wrap; }
#error { color: #b00020; }
.hint { color: #555; font-size: .85rem; }
.event, #edge-panel, #run-body, #findings, #edge-list { overflow-wrap: anywhere; }
.event { border: 1px solid #ddd; border-radius: 6px; padding: .5rem 1rem; margin: 1rem 0; }
.event h3 { margin: .25rem 0; font-size: 1rem; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0 1rem; font-size: .85rem; margin: .5rem 0; }
.facts dt { color: #555; }
.facts dd { margin: 0; overflow-wrap: anywhere; }
.steps { display: flex; flex-wrap: wrap; gap: .25rem; list-style: none; padding: 0; margin: .5rem 0; }
.step { flex: 1 1 8rem; border: 2px solid #bbb; border-radius: 4px; padding: .25rem .5rem; font-size: .8rem; background: #f4f4f4; }
.step strong { display: block; }
.step.pass { border-color: #2e7d32; background: #eef7ee; }
.step.fail { border-color: #c62828; background: #fdecea; }
.step.none { border-color: #999; border-style: dashed; }
.step.skipped { color: #666; }
.step.deciding { box-shadow: 0 0 0 2px #1d2b3a; font-weight: 600; }
.conditions td.ok { color: #2e7d32; font-weight: 600; }
.conditions td.fail { color: #c62828; font-weight: 600; }
.conditions td { font-family: ui-monospace, monospace; font-size: .8rem; white-space: normal; overflow-wrap: anywhere; }
.fixes li { margin: .25rem 0; }
.verdict-Allow { color: #2e7d32; }
.verdict-ExplicitDeny, .verdict-ImplicitDeny { color: #c62828; }
.graph-layout { display: flex; gap: 1rem; align-items: flex-start; }
#canvas { flex: 1; border: 1px solid #ddd; min-height: 12rem; max-height: 75vh; overflow: auto; }
#edge-panel { flex: 0 0 26rem; max-width: 100%; border: 1px solid #ddd; border-radius: 6px; padding: .5rem 1rem; max-height: 75vh; overflow: auto; }
#edge-panel h3 { overflow-wrap: anywhere; font-size: 1rem; }
svg.reach text { font: 12px system-ui, sans-serif; fill: #1d1d1f; }
svg.reach .group rect { fill: #f7f9fc; stroke: #b7c3d0; }
svg.reach .group.ou > rect { fill: #eef2f7; stroke-dasharray: 4 3; }
svg.reach .group.workspace > rect { fill: #fff8e6; stroke: #d9b75b; }
svg.reach .group text.title { font-weight: 600; fill: #34495e; }
svg.reach .node rect { fill: #fff; stroke: #4a6b8a; rx: 4; }
svg.reach .node.subject rect { fill: #fffdf5; stroke: #b8860b; }
svg.reach .node.unreached rect { stroke-dasharray: 3 3; stroke: #999; }
svg.reach .edge path.line { fill: none; stroke: #5b7083; stroke-width: 1.5; }
svg.reach .edge path.hit { fill: none; stroke: transparent; stroke-width: 12; }
svg.reach .edge text { font-size: 11px; fill: #34495e; }
svg.reach .edge:hover path.line, svg.reach .edge:focus path.line, svg.reach .edge.selected path.line { stroke: #1a73e8; stroke-width: 3; }
svg.reach .edge:focus { outline: none; }
svg.reach .edge:focus text, svg.reach .edge.selected text { fill: #1a73e8; font-weight: 600; }
svg.reach .finding rect, svg.reach .edge.finding path.line { stroke: #c62828; stroke-width: 2.5; }
svg.reach marker path { fill: #5b7083; }
.sev { display: inline-block; padding: 0 .4rem; border-radius: 3px; font-size: .75rem; font-weight: 600; color: #fff; background: #777; }
.sev.critical { background: #7b1fa2; } .sev.high { background: #c62828; } .sev.medium { background: #e65100; } .sev.low { background: #1565c0; }
#findings ul { padding-left: 1.2rem; }
.session-table td { overflow-wrap: normal; }
.session-table td.role { overflow-wrap: anywhere; }
.timeline { list-style: none; padding: 0; border-left: 3px solid #b7c3d0; margin-left: .5rem; }
.timeline li { position: relative; padding: .25rem 0 .5rem 1rem; }
.timeline li::before { content: ""; position: absolute; left: -.45rem; top: .6rem; width: .6rem; height: .6rem; border-radius: 50%; background: #4a6b8a; }
.timeline li.revocation::before { background: #e65100; }
.timeline li.after-revocation { background: #fdecea; }
.timeline li.after-revocation::before { background: #c62828; }
.timeline time { font-family: ui-monospace, monospace; font-size: .8rem; color: #555; margin-right: .5rem; }
@media (max-width: 800px) {
  .conditions thead { display: none; }
  .conditions tr { display: block; border-bottom: 1px solid #ddd; padding: .25rem 0; }
  .conditions td { display: block; border: 0; padding: .1rem .3rem; }
  .conditions td.expected::before { content: "expected: "; color: #555; font-family: system-ui, sans-serif; }
  .conditions td.presented::before { content: "presented: "; color: #555; font-family: system-ui, sans-serif; }
  .graph-layout { flex-direction: column; }
  #edge-panel { flex: 1 1 auto; width: 100%; box-sizing: border-box; }
  main { padding: .5rem; }
  th, td { padding: .2rem .3rem; }
}
`;
