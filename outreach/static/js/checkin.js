/*
 * The check-in page, enhanced: the page works without this script (a search
 * form and POST buttons); with it, the buttons answer in place, the counts
 * refresh by themselves, and a phone can scan the QR code on a confirmation.
 */
(function () {
  "use strict";

  var REFRESH_MS = 5000;
  var SCAN_EVERY_MS = 250;
  var CODE_PATTERN = /\/check-in\/scan\/([A-Za-z0-9_.\-]+)/;

  var root = document.querySelector("[data-check-in]");
  if (!root || !window.fetch) {
    return;
  }
  var status = root.querySelector("[data-status]");

  function say(message, isError) {
    status.textContent = message || "";
    status.classList.toggle("desk-door__status--error", Boolean(isError));
  }

  function showCounts(counts) {
    if (!counts) {
      return;
    }
    root.querySelectorAll("[data-count]").forEach(function (element) {
      var value = counts[element.getAttribute("data-count")];
      if (value !== undefined && element.textContent !== String(value)) {
        element.textContent = String(value);
      }
    });
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: {
        Accept: "application/json",
        "X-CSRFToken": root.getAttribute("data-csrf-token")
      }
    }).then(function (response) {
      return response.json().catch(function () {
        return { ok: false };
      });
    });
  }

  function replaceRow(row, html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    var fresh = template.content.firstElementChild;
    if (!fresh) {
      return;
    }
    row.replaceWith(fresh);
    var button = fresh.querySelector("button");
    if (button) {
      button.focus();
    }
  }

  // Check-in and undo buttons: send the form with fetch and swap the person's row.
  root.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-check-in-form")) {
      return;
    }
    event.preventDefault();
    var button = form.querySelector("button");
    if (button) {
      button.disabled = true;
    }
    post(form.action, new FormData(form))
      .then(function (answer) {
        say(answer.message || root.getAttribute("data-message-failed"), !answer.ok);
        showCounts(answer.counts);
        if (answer.row) {
          replaceRow(form.closest(".desk-person"), answer.row);
        } else if (button) {
          button.disabled = false;
        }
      })
      .catch(function () {
        // No connection: let the browser send the form the ordinary way.
        form.submit();
      });
  });

  // The counts follow what the other phones at the door do.
  function refresh() {
    if (document.hidden) {
      return;
    }
    fetch(root.getAttribute("data-counts-url"), {
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(showCounts)
      .catch(function () {});
  }
  window.setInterval(refresh, REFRESH_MS);
  document.addEventListener("visibilitychange", refresh);

  // Scanning: only where the browser can read QR codes from the camera itself.
  var scanButton = root.querySelector("[data-scan]");
  if (
    !scanButton ||
    !("BarcodeDetector" in window) ||
    !navigator.mediaDevices ||
    !navigator.mediaDevices.getUserMedia
  ) {
    return;
  }
  var scanLabel = scanButton.textContent;
  var detector = null;
  var stream = null;
  var video = null;
  var timer = null;

  function stopScanning() {
    window.clearTimeout(timer);
    if (stream) {
      stream.getTracks().forEach(function (track) {
        track.stop();
      });
    }
    stream = null;
    if (video) {
      video.remove();
      video = null;
    }
    scanButton.textContent = scanLabel;
  }

  function checkInCode(token) {
    var body = new FormData();
    body.append("event_id", root.getAttribute("data-event-id"));
    var url = root.getAttribute("data-scan-url").replace("TOKEN", encodeURIComponent(token));
    post(url, body)
      .then(function (answer) {
        say(answer.message || root.getAttribute("data-message-failed"), !answer.ok);
        showCounts(answer.counts);
      })
      .catch(function () {
        say(root.getAttribute("data-message-failed"), true);
      });
  }

  function look() {
    if (!stream || !video) {
      return;
    }
    detector
      .detect(video)
      .then(function (codes) {
        for (var i = 0; i < codes.length; i += 1) {
          var match = CODE_PATTERN.exec(codes[i].rawValue || "");
          if (match) {
            stopScanning();
            checkInCode(match[1]);
            return;
          }
        }
        if (codes.length) {
          say(root.getAttribute("data-message-not-ours"), true);
        }
        timer = window.setTimeout(look, SCAN_EVERY_MS);
      })
      .catch(function () {
        timer = window.setTimeout(look, SCAN_EVERY_MS);
      });
  }

  function startScanning() {
    say(root.getAttribute("data-message-scanning"), false);
    navigator.mediaDevices
      .getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (camera) {
        stream = camera;
        video = document.createElement("video");
        video.className = "desk-door__video";
        video.muted = true;
        video.setAttribute("playsinline", "");
        video.setAttribute("aria-hidden", "true");
        video.srcObject = camera;
        scanButton.insertAdjacentElement("afterend", video);
        scanButton.textContent = root.getAttribute("data-label-stop");
        return video.play();
      })
      .then(look)
      .catch(function () {
        stopScanning();
        say(root.getAttribute("data-message-no-camera"), true);
      });
  }

  window.BarcodeDetector.getSupportedFormats()
    .then(function (formats) {
      if (formats.indexOf("qr_code") === -1) {
        return;
      }
      detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      scanButton.hidden = false;
      scanButton.addEventListener("click", function () {
        if (stream) {
          stopScanning();
          say("", false);
        } else {
          startScanning();
        }
      });
    })
    .catch(function () {});
})();
