// Hookline dashboard: progressive enhancement only. Every page works
// without this script; it adds the live tail, bulk-resend progress and
// confirmations.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  // Ask before destructive actions (forms carry data-confirm).
  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (!window.confirm(f.dataset.confirm)) e.preventDefault();
    });
  });

  var rows = document.getElementById("tail-rows");
  if (rows) startTail(rows);

  var job = document.getElementById("job");
  if (job && job.dataset.done !== "true") pollJob(job);
});

function startTail(rows) {
  var state = document.getElementById("tail-state");
  var tpl = document.getElementById("tail-row");
  var es = new EventSource("/tail/stream");
  es.onopen = function () { state.textContent = "live"; state.className = "badge live"; };
  es.onerror = function () { state.textContent = "reconnecting…"; state.className = "badge pending"; };
  es.addEventListener("attempt", function (ev) {
    var a = JSON.parse(ev.data);
    var tr = tpl.content.firstElementChild.cloneNode(true);
    tr.classList.add("new");
    tr.dataset.attempt = a.id;
    tr.dataset.event = a.event_id;
    tr.querySelector(".t-created").textContent = a.created;
    var st = tr.querySelector(".t-status");
    st.textContent = a.status ? String(a.status) : "—";
    st.className = "status t-status " + (a.status >= 200 && a.status < 300 ? "ok" : a.status ? "bad" : "none");
    tr.querySelector(".t-outcome").textContent = a.outcome;
    var evl = tr.querySelector(".t-event");
    evl.href = "/events/" + encodeURIComponent(a.event_id);
    evl.textContent = a.event_type || a.event_id;
    var epl = tr.querySelector(".t-endpoint");
    epl.href = "/endpoints/" + encodeURIComponent(a.endpoint_id);
    epl.textContent = a.url;
    tr.querySelector(".t-attempt").textContent = String(a.attempt);
    tr.querySelector(".t-duration").textContent = a.duration_ms + " ms";
    rows.insertBefore(tr, rows.firstChild);
    while (rows.children.length > 200) rows.removeChild(rows.lastChild);
  });
}

function pollJob(job) {
  var bar = document.getElementById("job-progress");
  var status = document.getElementById("job-status");
  function tick() {
    fetch("/jobs/" + encodeURIComponent(job.dataset.job) + "?format=json", { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (j) {
        var pct = j.total ? Math.floor(j.resent * 100 / j.total) : (j.done ? 100 : 0);
        bar.value = pct;
        bar.textContent = pct + "%";
        if (j.done) {
          status.textContent = j.error ? "Stopped: " + j.error : "Done: " + j.resent + " of " + j.total + " resent.";
          job.dataset.done = "true";
          return;
        }
        status.textContent = "Resent " + j.resent + " of " + j.total + "…";
        setTimeout(tick, 500);
      })
      .catch(function () { setTimeout(tick, 2000); });
  }
  tick();
}
