/* The segment editor: builds the definition (docs/segments.md) from the controls, asks
   /console/segments/size for its size and a sample as the marketer edits (debounced), and
   puts the same definition in the form's `definition` field when it is saved. */
(function () {
  "use strict";
  var form = document.getElementById("segment-form");
  var sizeOut = document.getElementById("live-size");
  var errorOut = document.getElementById("live-error");
  var sample = document.getElementById("sample");
  var numberFormat = new Intl.NumberFormat(document.documentElement.lang);
  var timer = null;
  var asked = 0;

  // A typed number as JSON wants it; anything else goes as typed, so the server names it.
  function number(text) {
    return /^[0-9]{1,15}$/.test(text) ? Number(text) : text;
  }

  function put(definition, path, value) {
    var steps = path.split(".");
    var at = definition;
    steps.slice(0, -1).forEach(function (step) { at = at[step] = at[step] || {}; });
    at[steps[steps.length - 1]] = value;
  }

  function valueOf(control) {
    var kind = control.dataset.kind;
    if (control.multiple) {
      return Array.prototype.filter.call(control.options, function (option) {
        return option.selected;
      }).map(function (option) { return number(option.value); });
    }
    var text = control.value.trim();
    if (text === "") { return null; }
    if (kind === "words") {
      return text.split(",").map(function (word) { return word.trim(); })
        .filter(function (word) { return word !== ""; });
    }
    if (kind === "bool") { return text === "true"; }
    if (control.type === "number" || kind === "id") { return number(text); }
    return text;
  }

  function definition() {
    var built = {};
    form.querySelectorAll("[data-path]").forEach(function (control) {
      var path = control.dataset.path;
      if (control.type === "checkbox") {
        if (!control.checked) { return; }
        var list = path.split(".").reduce(function (at, step) {
          return at && at[step];
        }, built) || [];
        list.push(control.dataset.kind === "ints" ? number(control.value) : control.value);
        put(built, path, list);
        return;
      }
      var value = valueOf(control);
      if (value === null || (Array.isArray(value) && value.length === 0)) { return; }
      put(built, path, value);
    });
    return built;
  }

  function showSample(members) {
    sample.textContent = "";
    members.forEach(function (member) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = "/console/members/" + member.id;
      link.textContent = member.name || sample.dataset.fallback;
      item.appendChild(link);
      sample.appendChild(item);
    });
  }

  function ask() {
    var mine = ++asked;
    fetch("/console/segments/size", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json",
                 "X-CSRF-Token": form.dataset.csrf },
      body: JSON.stringify({ definition: definition() })
    }).then(function (response) {
      return response.json().then(function (body) { return [response.ok, body]; });
    }).then(function (answer) {
      if (mine !== asked) { return; }  // a later edit's answer is on its way
      var ok = answer[0], body = answer[1];
      errorOut.hidden = ok;
      form.dataset.sized = String(mine);
      if (ok) {
        sizeOut.textContent = numberFormat.format(body.size);
        showSample(body.sample);
      } else {
        sizeOut.textContent = "—";
        errorOut.textContent = body.error.message;
        showSample([]);
      }
    });
  }

  function soon() {
    clearTimeout(timer);
    timer = setTimeout(ask, 300);
  }

  form.addEventListener("input", soon);
  form.addEventListener("change", soon);
  form.addEventListener("submit", function () {
    document.getElementById("definition").value = JSON.stringify(definition());
  });
  ask();
})();
