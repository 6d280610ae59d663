// The event form: show only the parts of a question row that its kind uses.
// Without JavaScript every field stays visible and the form works the same.
(function () {
  "use strict";

  var CHOICE_KINDS = ["single_choice", "multiple_choice"];

  function setUp(row) {
    var kind = row.querySelector("select");
    var details = row.querySelector("[data-question-details]");
    var answers = row.querySelector("[data-question-answers]");
    if (!kind || !details || !answers) {
      return;
    }
    function update() {
      // A row with errors stays open, so the messages can be read.
      var hasErrors = row.querySelector(".field--error") !== null;
      details.hidden = kind.value === "" && !hasErrors;
      answers.hidden = CHOICE_KINDS.indexOf(kind.value) === -1 && !hasErrors;
    }
    kind.addEventListener("change", update);
    update();
  }

  document.querySelectorAll("[data-question-row]").forEach(setUp);
})();
