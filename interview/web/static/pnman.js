/* pnman serve: what the pages do with JavaScript on, beyond htmx's swaps (every page works
   without it). htmx swaps a boosted page into <body> and leaves <html> as it was, so:
   - the new page's language and direction (<html lang dir>) are taken from the response, or
     a page reached in another language would be read with the wrong voice and laid out in
     the wrong direction;
   - the keyboard focus moves to where a person continues — the question's first field, else
     the page's heading — instead of falling to <body>. */
(function () {
  "use strict";
  var OPENING = /<html\b[^>]*>/i;

  function attribute(tag, name) {
    var found = new RegExp("\\s" + name + "=\"([^\"]*)\"", "i").exec(tag);
    return found ? found[1] : null;
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail || {};
    if (detail.target !== document.body || !detail.xhr) { return; }
    var tag = OPENING.exec(detail.xhr.responseText || "");
    if (!tag) { return; }
    var root = document.documentElement;
    var lang = attribute(tag[0], "lang"), dir = attribute(tag[0], "dir");
    if (lang) { root.setAttribute("lang", lang); }
    if (dir) { root.setAttribute("dir", dir); }
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    if (!event.detail || event.detail.target !== document.body) { return; }   // an explanation loaded in place keeps the focus
    var main = document.getElementById("main");
    if (!main) { return; }
    var field = main.querySelector("form.question input[type=radio]:checked, " +
                                   "form.question input:not([type=hidden]), form.question textarea");
    var heading = main.querySelector("h1");
    var goal = field || heading;
    if (!goal) { return; }
    if (goal === heading) { heading.setAttribute("tabindex", "-1"); }
    goal.focus();
  });
})();
