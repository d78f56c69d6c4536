// Progressive enhancement only: every page reads and works without this file.
// Tell the server the reader's time zone (a cookie it reads when the account sets none), so that
// times are rendered in that zone; dates as the law gives them are never converted.
(function () {
  "use strict";
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && /^[A-Za-z0-9_+\-\/]{1,64}$/.test(zone) && document.cookie.indexOf("banscan_tz=" + zone) < 0) {
      document.cookie = "banscan_tz=" + zone + "; path=/; max-age=31536000; SameSite=Strict" +
        (location.protocol === "https:" ? "; Secure" : "");
    }
  } catch (e) { /* no Intl: times stay in UTC */ }
})();
