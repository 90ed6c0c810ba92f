/* Live pages (docs/website.md, "Live pages"): <main data-live-url data-live-state>.
 *
 * Polls the page's small JSON state with backoff: 250 ms, growing by half to 4 s while
 * nothing changes, back to 250 ms after a change (a compile goes new, pending,
 * ready within a second). When the state differs from the one the page shows,
 * the page is fetched again and its <main> swapped in: no reload, no flash.
 * Stops once the state says the page waits on nothing any more.
 */
(function () {
  "use strict";
  var FIRST_DELAY_MS = 250, MAX_DELAY_MS = 4000;
  var main = document.querySelector("main[data-live-url]");
  if (!main || !window.fetch) return;
  var url = main.dataset.liveUrl, shown = main.dataset.liveState, delay = FIRST_DELAY_MS;

  // A page in a hidden tab is polled at the slowest pace: nobody is looking.
  function later() {
    setTimeout(poll, document.hidden ? MAX_DELAY_MS : delay);
    delay = Math.min(delay * 1.5, MAX_DELAY_MS);
  }

  function setTexts(texts) {
    Object.keys(texts).forEach(function (id) {
      var element = document.getElementById(id);
      if (element) element.textContent = texts[id];
    });
  }

  // The page as it is now, in place of the one shown; the flash messages stay.
  function swap() {
    return fetch(location.href, {credentials: "same-origin"}).then(function (response) {
      if (!response.ok) throw new Error(response.status);
      return response.text();
    }).then(function (html) {
      var fresh = new DOMParser().parseFromString(html, "text/html");
      var freshMain = fresh.querySelector("main");
      if (!freshMain) throw new Error("no <main>");
      Array.from(main.querySelectorAll(":scope > .message")).reverse().forEach(function (message) {
        freshMain.insertBefore(message, freshMain.firstChild);
      });
      main.replaceChildren.apply(main, Array.from(freshMain.childNodes));
      document.title = fresh.title;
      shown = freshMain.dataset.liveState;
      main.dispatchEvent(new CustomEvent("live:updated", {bubbles: true}));
      return freshMain.hasAttribute("data-live-url");
    });
  }

  function poll() {
    fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (answer) {
        setTexts(answer.text || {});
        if (answer.state === shown) return answer.live;
        delay = FIRST_DELAY_MS;
        return swap();
      })
      .then(function (stillLive) { if (stillLive) later(); },
            function () { delay = MAX_DELAY_MS; later(); });
  }

  later();
})();
