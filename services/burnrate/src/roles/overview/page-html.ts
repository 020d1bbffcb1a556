/**
 * The overview page. Static: no request value is ever written into it (the script fills it in with
 * textContent, and the charts draw on canvas), so there is nothing to escape here.
 */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>burnrate overview</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; background: #f6f7f9; color: #1d2330; }
  header { display: flex; gap: 16px; align-items: center; padding: 12px 20px; background: #1d2330; color: #fff; }
  header h1 { font-size: 18px; margin: 0; }
  header select, header button { font: inherit; }
  #scope { font-size: 16px; margin: 0; font-weight: 600; }
  #clear[hidden] { display: none; }
  main { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 16px; padding: 16px 20px; }
  section { background: #fff; border-radius: 6px; padding: 12px 16px; box-shadow: 0 1px 2px rgba(0,0,0,.08); min-width: 0; }
  section.wide { grid-column: 1 / -1; }
  h2 { font-size: 15px; margin: 0 0 8px; }
  .chart { height: 300px; }
  .hint { color: #667; font-size: 12px; margin: 4px 0 0; }
  table { border-collapse: collapse; width: 100%; font-size: 13px; }
  th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eceef2; vertical-align: top; }
  td.time { white-space: nowrap; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
  tr.whale td { background: #fff1f0; }
  .sev-critical { color: #b42318; font-weight: 600; }
  .sev-warning { color: #b54708; font-weight: 600; }
  .stats { display: flex; gap: 24px; flex-wrap: wrap; margin-bottom: 8px; }
  .stats div b { display: block; font-size: 18px; }
  #error { color: #b42318; padding: 0 20px; }
  button.link { background: none; border: 0; color: #175cd3; cursor: pointer; padding: 0; font: inherit; }
</style>
</head>
<body data-ready="0">
<header>
  <h1>burnrate overview</h1>
  <label>Range <select id="range">
    <option value="24h">last 24 hours</option>
    <option value="7d" selected>last 7 days</option>
    <option value="30d">last 30 days</option>
  </select></label>
  <p id="scope">All customers</p>
  <button id="clear" hidden>Show all</button>
</header>
<p id="error" role="alert"></p>
<main>
  <section class="wide"><h2>Spend over time by customer</h2><div id="chart-spend-customer" class="chart"></div>
    <p class="hint">Click a customer to see only its workflows, models and runs.</p></section>
  <section><h2>Spend over time by workflow</h2><div id="chart-spend-workflow" class="chart"></div></section>
  <section><h2>Spend over time by model</h2><div id="chart-spend-model" class="chart"></div></section>
  <section><h2>Margins and whales (billing period in force)</h2><div id="chart-margins" class="chart"></div>
    <table id="margins"><thead><tr><th>customer</th><th>plan</th><th class="num">revenue</th><th class="num">cost</th><th class="num">margin</th><th></th></tr></thead><tbody></tbody></table></section>
  <section><h2>Model routing: cost per call against quality</h2><div id="chart-routing" class="chart"></div>
    <p class="hint">Each point is a model in a workflow (scored calls only). Lower left of another point in the same workflow: a cheaper model of about the same quality.</p>
    <ul id="suggestions"></ul></section>
  <section class="wide"><h2>Most expensive runs</h2>
    <table id="runs"><thead><tr><th>started (UTC)</th><th>customer</th><th>workflow</th><th>run</th><th class="num">steps</th><th class="num">depth</th><th>models</th><th class="num">cost</th></tr></thead><tbody></tbody></table></section>
  <section><h2>Recent alerts</h2>
    <table id="alerts"><thead><tr><th>at (UTC)</th><th>severity</th><th>rule</th><th>event</th><th>summary</th></tr></thead><tbody></tbody></table></section>
  <section><h2>Pipeline health</h2><div class="stats" id="health-stats"></div>
    <div id="chart-health" class="chart"></div>
    <table id="dead-letters"><thead><tr><th>dead letters (24 h): reason</th><th class="num">records</th><th>last (UTC)</th></tr></thead><tbody></tbody></table></section>
</main>
<script src="/assets/echarts.min.js"></script>
<script src="/overview.js"></script>
</body>
</html>
`;
