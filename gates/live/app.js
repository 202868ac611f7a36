// The live page's script: polls /api/state once a second and puts what it
// says on the page (the charts and tables come drawn by the server, the
// same code as report.html); the stop button posts to /api/stop.
(function () {
  'use strict';
  var token = new URLSearchParams(location.search).get('token') || '';
  var auth = token ? { Authorization: 'Bearer ' + token } : {};
  var $ = function (id) { return document.getElementById(id); };
  var shown = {};

  function text(id, s) {
    var e = $(id);
    if (e && e.textContent !== s) e.textContent = s;
  }
  function part(id, html) {
    if (shown[id] === html) return;
    shown[id] = html;
    $(id).innerHTML = html; // drawn and escaped by the server's templates
  }
  function clock(s) {
    s = Math.max(0, Math.round(s));
    var h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, r = s % 60;
    var mm = (h > 0 && m < 10 ? '0' : '') + m, rr = (r < 10 ? '0' : '') + r;
    return (h > 0 ? h + ':' : '') + mm + ':' + rr;
  }
  function load(v) {
    if (v.model === 'open') return (Math.round(v.rate * 10) / 10) + ' arrivals/s target, ' + v.in_flight + ' in flight';
    return v.users + ' users (target ' + v.target + ')';
  }
  function workers(v) {
    var t = $('worker-list');
    var rows = (v.worker_list || []).map(function (w) {
      var tr = document.createElement('tr');
      [w.id + ' ' + w.name, w.host, (w.share || 0).toFixed(2), String(w.requests), w.lost ? 'lost: ' + w.lost : (w.left && w.left.indexOf('0001') !== 0 ? 'left' : 'live')]
        .forEach(function (c) { var td = document.createElement('td'); td.textContent = c; tr.appendChild(td); });
      return tr;
    });
    t.replaceChildren.apply(t, rows);
  }
  function render(v) {
    var st = $('state');
    st.className = 'state ' + v.state;
    text('state', v.state);
    var badge = $('summary');
    badge.className = 'badge ' + (v.exit === 0 ? 'pass' : 'fail');
    text('summary', v.summary);
    text('stage', v.stages ? v.stage + ' of ' + v.stages : '–');
    text('elapsed', clock(v.elapsed_s) + ' of ' + clock(v.total_s));
    text('left', v.state === 'done' ? 'done' : clock(v.left_s));
    text('load', v.state === 'done' ? '–' : load(v));
    text('workers', String(v.workers));
    text('requests', v.requests + ' (' + v.failures + ' failed)');
    text('stopped', v.state === 'done' ? 'Run written to ' + v.dir + ' (report.html inside) · exit ' + v.exit + (v.stopped ? ' · ' + v.stopped : '') : (v.stopped || ''));
    $('progress').style.width = (v.total_s > 0 ? Math.min(100, 100 * v.elapsed_s / v.total_s) : 0) + '%';
    $('stop').disabled = v.state !== 'running';
    workers(v);
    part('part-verdicts', v.parts.Verdicts);
    part('part-charts', v.parts.Charts);
    part('part-requests', v.parts.Requests);
    part('part-failures', v.parts.Failures);
    document.body.dataset.state = v.state;
    document.body.dataset.seconds = String(v.seconds);
  }
  function lost(why) {
    var c = $('conn');
    c.textContent = 'lab apply no longer answers (' + why + '): the run has ended or was stopped; its results and report.html are in the run folder.';
    c.className = 'shown';
    $('stop').disabled = true;
  }
  function poll() {
    fetch('api/state', { headers: auth, cache: 'no-store' })
      .then(function (r) {
        if (!r.ok) throw new Error('HTTP ' + r.status);
        return r.json();
      })
      .then(function (v) {
        render(v);
        if (v.state !== 'done') setTimeout(poll, 1000);
      })
      .catch(function (e) { lost(e.message); });
  }
  $('stop').addEventListener('click', function () {
    var b = $('stop');
    b.disabled = true;
    fetch('api/stop', { method: 'POST', headers: Object.assign({ 'X-Lab-Stop': '1' }, auth) })
      .then(function (r) { return r.text().then(function (t) { text('stopped', t.trim()); }); })
      .catch(function (e) { lost(e.message); });
  });
  poll();
})();
