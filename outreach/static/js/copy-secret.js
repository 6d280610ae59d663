// A "copy" button next to a secret shown once (progressive enhancement: without
// JavaScript the field is still there to select and copy by hand).
(function () {
  "use strict";

  function enhance(field) {
    var button = document.createElement("button");
    var label = field.getAttribute("data-copy-text") || "Copy";
    var done = field.getAttribute("data-copied-text") || "Copied";
    button.type = "button";
    button.className = "button button--secondary";
    button.textContent = label;
    var status = document.createElement("span");
    status.setAttribute("role", "status");
    status.className = "hint";

    field.addEventListener("focus", function () {
      field.select();
    });
    button.addEventListener("click", function () {
      field.focus();
      field.select();
      var copied = navigator.clipboard
        ? navigator.clipboard.writeText(field.value)
        : Promise.reject(new Error("no clipboard"));
      copied.then(
        function () {
          status.textContent = " " + done;
        },
        function () {
          // Selected: the person copies with the keyboard or the context menu.
          status.textContent = "";
        }
      );
    });
    field.insertAdjacentElement("afterend", status);
    field.insertAdjacentElement("afterend", button);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-copy-source]").forEach(enhance);
  });
})();
