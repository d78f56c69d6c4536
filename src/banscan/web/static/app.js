// Progressive enhancement only: every page reads and works without this file.
// Show <time datetime="..."> values (UTC from the server) in the reader's time zone.
(function () {
  "use strict";
  function localise() {
    var els = document.querySelectorAll("time[datetime]");
    for (var i = 0; i < els.length; i++) {
      var v = els[i].getAttribute("datetime");
      if (!v || v.length <= 10) continue; // a bare date is shown as the law gives it
      var d = new Date(v);
      if (isNaN(d.getTime())) continue;
      els[i].title = v + " (UTC)";
      els[i].textContent = d.toLocaleString();
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", localise);
  else localise();
})();
