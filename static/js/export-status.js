// Follows the exports that are queued or running (emulation workbooks, officers' lists): one small
// status request per job at a time, every 1.5 s at first and more slowly (up to 10 s) the longer it
// runs; stops once it is done or failed ("finished"). A job whose worker died is followed on:
// another worker takes it over.
(function () {
  "use strict";

  function update(row, status) {
    row.querySelector("[data-label]").textContent = status.label;
    var bar = row.querySelector("[data-progress]");
    bar.hidden = status.status !== "running" || status.finished;
    bar.setAttribute("aria-valuenow", String(status.percent));
    bar.firstElementChild.style.width = status.percent + "%";
    row.querySelector("[data-error]").textContent = status.error;
    var link = row.querySelector("[data-download]");
    link.hidden = !status.download;
    if (status.download) link.href = status.download;
    row.querySelector("[data-retry]").hidden = !status.retry;
  }

  function follow(row) {
    var delay = 1500;
    function poll() {
      fetch(row.dataset.exportStatus, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) throw new Error(response.status);
          return response.json();
        })
        .then(function (status) {
          update(row, status);
          if (!status.finished) schedule();
        })
        .catch(schedule);
    }
    function schedule() {
      setTimeout(poll, delay);
      delay = Math.min(10000, Math.round(delay * 1.5));
    }
    schedule();
  }

  document.querySelectorAll("[data-export-status]").forEach(function (row) {
    if (!row.dataset.finished) follow(row);
  });
})();
