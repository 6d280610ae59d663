/*
 * The campaign pages, enhanced. Without this script everything still works:
 * the audience form shows all its parts and counts with "Update count", and
 * the progress section has a reload link. With it, the form shows only the
 * part of the audience chosen and counts as you go, the question list keeps
 * to the chosen events, and the progress refreshes by itself.
 */
(function () {
  "use strict";

  var COUNT_DELAY_MS = 400;
  var REFRESH_MS = 5000;

  // -- the audience builder ---------------------------------------------------------------

  function setUpAudience(form) {
    var builder = form.querySelector("[data-audience-builder]");
    if (!builder) {
      return;
    }
    var parts = builder.querySelectorAll("[data-audience]");
    var size = builder.querySelector("[data-segment-size]");
    var countButton = builder.querySelector("input[name=count], button[name=count]");
    var questionSelect = builder.querySelector("[data-question-select]");
    var answerSelect = builder.querySelector("[data-answer-select]");
    var eventsSelect = builder.querySelector("select[name=events]");
    var timer = null;
    var latest = 0;

    function chosenAudience() {
      var checked = builder.querySelector("input[name=audience]:checked");
      return checked ? checked.value : "registrants";
    }

    function showChosenPart() {
      var audience = chosenAudience();
      parts.forEach(function (part) {
        part.hidden = part.getAttribute("data-audience") !== audience;
      });
    }

    function chosenEvents() {
      if (!eventsSelect) {
        return [];
      }
      return Array.prototype.filter
        .call(eventsSelect.options, function (option) {
          return option.selected;
        })
        .map(function (option) {
          return option.value;
        });
    }

    // Offer only the questions of the chosen events, and only the chosen question's answers.
    function limitGroups(select, attribute, allowed) {
      if (!select) {
        return;
      }
      select.querySelectorAll("optgroup").forEach(function (group) {
        var keep = allowed.indexOf(group.getAttribute(attribute)) !== -1;
        group.hidden = !keep;
        group.disabled = !keep;
      });
      var selected = select.options[select.selectedIndex];
      if (selected && selected.parentNode.tagName === "OPTGROUP" && selected.parentNode.disabled) {
        select.value = "";
      }
    }

    function limitQuestions() {
      limitGroups(questionSelect, "data-event", chosenEvents());
      limitGroups(answerSelect, "data-question", questionSelect ? [questionSelect.value] : []);
    }

    // The audience fields as query arguments: only the part that counts, no texts.
    function query() {
      var params = new URLSearchParams();
      var audience = chosenAudience();
      params.append("audience", audience);
      var part = builder.querySelector('[data-audience="' + audience + '"]');
      if (!part) {
        return params;
      }
      part.querySelectorAll("input, select").forEach(function (control) {
        if (!control.name || control.disabled) {
          return;
        }
        if (control.type === "checkbox" || control.type === "radio") {
          if (control.checked) {
            params.append(control.name, control.value);
          }
        } else if (control.multiple) {
          Array.prototype.forEach.call(control.options, function (option) {
            if (option.selected) {
              params.append(control.name, option.value);
            }
          });
        } else {
          params.append(control.name, control.value);
        }
      });
      return params;
    }

    function count() {
      var ticket = ++latest;
      var url = form.getAttribute("data-size-url") + "?" + query().toString();
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          return response.json();
        })
        .then(function (answer) {
          if (ticket !== latest) {
            return; // an answer to an older question
          }
          if (typeof answer.size === "number") {
            size.textContent = answer.message;
          } else {
            var problems = answer.errors ? Object.values(answer.errors) : [];
            size.textContent = problems.length
              ? problems.join(" ")
              : form.getAttribute("data-size-failed");
          }
        })
        .catch(function () {
          if (ticket === latest) {
            size.textContent = form.getAttribute("data-size-failed");
          }
        });
    }

    function changed(event) {
      if (event && event.target && event.target.name === "audience") {
        showChosenPart();
      }
      limitQuestions();
      window.clearTimeout(timer);
      timer = window.setTimeout(count, COUNT_DELAY_MS);
    }

    builder.addEventListener("change", changed);
    if (countButton) {
      countButton.remove(); // the count keeps itself up to date (a .button ignores hidden)
    }
    showChosenPart();
    limitQuestions();
    count();
  }

  // -- progress -----------------------------------------------------------------------------

  function setUpProgress(section) {
    var url = section.getAttribute("data-progress-url");
    var bar = section.querySelector("[data-progress-bar]");

    function show(numbers) {
      section.querySelectorAll("[data-count]").forEach(function (element) {
        var name = element.getAttribute("data-count");
        var value = name === "queued" ? numbers.queued + numbers.sending : numbers[name];
        if (value !== undefined && element.textContent !== String(value)) {
          element.textContent = String(value);
        }
      });
      if (bar) {
        bar.max = numbers.total || 1;
        bar.value = numbers.finished;
        bar.textContent = numbers.finished + " / " + numbers.total;
      }
    }

    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          return response.ok ? response.json() : null;
        })
        .then(function (numbers) {
          if (!numbers) {
            return;
          }
          show(numbers);
          if (!numbers.done) {
            window.setTimeout(poll, REFRESH_MS);
          }
        })
        .catch(function () {
          window.setTimeout(poll, REFRESH_MS * 2);
        });
    }

    window.setTimeout(poll, REFRESH_MS);
  }

  if (!window.fetch || !window.URLSearchParams) {
    return;
  }
  document.querySelectorAll("[data-campaign-form]").forEach(setUpAudience);
  document.querySelectorAll("[data-progress]").forEach(setUpProgress);
})();
