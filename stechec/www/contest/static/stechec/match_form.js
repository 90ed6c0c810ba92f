/* The match form's champion fields suggest as the player types: every player's
 * ready champions, from <form data-search-url> (docs/website.md, "Starting a match").
 * Without this script the fields still take a player's name or a number.
 */
(function () {
  "use strict";
  var DEBOUNCE_MS = 150;
  var form = document.getElementById("match-form");
  var choices = document.getElementById("champion-choices");
  if (!form || !choices || !window.fetch) return;
  var timer = null, asked = null;

  function show(list) {
    choices.replaceChildren.apply(choices, list.map(function (choice) {
      var option = document.createElement("option");
      option.value = choice.value;
      option.label = choice.label;
      return option;
    }));
  }

  function search(query) {
    asked = query;
    var url = form.dataset.searchUrl + "?q=" + encodeURIComponent(query);
    fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (response) { return response.ok ? response.json() : {choices: []}; })
      .then(function (answer) { if (query === asked) show(answer.choices); },
            function () {});
  }

  form.querySelectorAll("input.champion-picker").forEach(function (input) {
    input.addEventListener("input", function () {
      clearTimeout(timer);
      var query = input.value.trim();
      if (query) timer = setTimeout(search, DEBOUNCE_MS, query);
    });
  });
})();
