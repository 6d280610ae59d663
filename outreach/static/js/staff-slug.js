// Show the short name the server will make from the organisation's name, while typing.
// Progressive enhancement: without this script the server still makes the same suggestion.
(function () {
  "use strict";

  function slugify(text) {
    return text
      .normalize("NFKD")
      .replace(/[\u0300-\u036f]/g, "")
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 80)
      .replace(/-+$/g, "");
  }

  function enhance(form) {
    var source = form.querySelector("#" + form.dataset.slugFrom);
    var target = form.querySelector("#" + form.dataset.slugTo);
    if (!source || !target) {
      return;
    }
    function suggest() {
      target.placeholder = slugify(source.value);
    }
    source.addEventListener("input", suggest);
    suggest();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-slug-from]").forEach(enhance);
  });
})();
