// The results entry page, enhanced: every change is saved to the server as it is typed
// (the form posted with fetch and the session's CSRF token), each field's message and the
// interpretation panel come back and replace what is shown, and Enter moves to the next
// field. Without this script the same form works by plain posts. No inline script anywhere
// (the Content-Security-Policy is default-src 'self').
"use strict";

(function () {
  var SAVE_DELAY_MS = 300;

  // The browser's UTC offset ("+01:00"), for a procedure time typed in local time.
  function utcOffset(date) {
    var minutes = -date.getTimezoneOffset();
    var sign = minutes < 0 ? "-" : "+";
    minutes = Math.abs(minutes);
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return sign + pad(Math.floor(minutes / 60)) + ":" + pad(minutes % 60);
  }

  // The local date-time typed ("2026-07-01T10:00") as a Date in the browser's time zone, or
  // null when it cannot be read (the server then names the field).
  function typedLocal(text) {
    var match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(text || "");
    if (!match) {
      return null;
    }
    var date = new Date(2000, 0, 1, 0, 0, 0, 0);
    // setFullYear: the Date constructor reads a year below 100 as 19xx.
    date.setFullYear(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
    date.setHours(Number(match[4]), Number(match[5]), 0, 0);
    return isNaN(date.getTime()) ? null : date;
  }

  // The offset of the procedure's own date, not today's: across daylight-saving time they
  // differ (Berlin: +01:00 in January, +02:00 in July). Recomputed whenever the time changes.
  function fillTimeZone(form) {
    var offset = form.querySelector("[data-time-zone-offset]");
    var local = form.querySelector("[data-performed-local]");
    if (!offset) {
      return;
    }
    var hint = form.querySelector("[data-time-zone-hint]");
    function update() {
      var when = local ? typedLocal(local.value) : null;
      if (when) {
        offset.value = utcOffset(when);
        if (hint) {
          hint.textContent = "Time zone UTC" + offset.value + " (your browser's, on that date).";
        }
      } else if (!offset.value) {
        offset.value = utcOffset(new Date());
      }
    }
    // A stored time keeps the offset it was saved with until the clinician changes it.
    if (!(local && local.value && offset.value)) {
      update();
    }
    if (local) {
      // On the input itself, so the offset is set before the form's autosave reads it.
      local.addEventListener("input", update);
      local.addEventListener("change", update);
    }
  }

  // Enter moves on, as on paper: to the next field in tab order (not out of a text area,
  // and never pressing a button by accident).
  function moveOnWithEnter(form) {
    form.addEventListener("keydown", function (event) {
      var target = event.target;
      if (event.key !== "Enter" || event.shiftKey || event.altKey || event.ctrlKey) {
        return;
      }
      if (!(target instanceof HTMLInputElement || target instanceof HTMLSelectElement)) {
        return;
      }
      if (target.type === "submit" || target.type === "button") {
        return;
      }
      event.preventDefault();
      var fields = Array.prototype.filter.call(form.elements, function (element) {
        return !element.disabled && element.type !== "hidden" && element.tabIndex >= 0 &&
          element.offsetParent !== null;
      });
      var index = fields.indexOf(target);
      // Radios of one group count as one stop, as Tab treats them.
      var next = index + 1;
      while (next < fields.length && target.type === "radio" && fields[next].name === target.name) {
        next += 1;
      }
      if (next < fields.length) {
        fields[next].focus();
        if (fields[next].select && fields[next].type === "text") {
          fields[next].select();
        }
      }
    });
  }

  function showMessages(form, messages) {
    var holders = form.querySelectorAll("[data-error-for]");
    Array.prototype.forEach.call(holders, function (holder) {
      var id = holder.getAttribute("data-error-for");
      var message = messages[id];
      var input = document.getElementById(id);
      var field = holder.closest(".field");
      holder.textContent = "";
      if (message) {
        var hidden = document.createElement("span");
        hidden.className = "visually-hidden";
        hidden.textContent = "Error:";
        holder.appendChild(hidden);
        holder.appendChild(document.createTextNode(" " + message));
        holder.hidden = false;
      } else {
        holder.hidden = true;
      }
      if (input && input.tagName !== "FIELDSET") {
        if (message) {
          input.setAttribute("aria-invalid", "true");
        } else {
          input.removeAttribute("aria-invalid");
        }
      }
      if (field) {
        field.classList.toggle("field-invalid", Boolean(message));
      }
    });
  }

  function replacePanel(panel, html) {
    // The server renders the panel with escaping on; parsed inertly, then moved in.
    var parsed = new DOMParser().parseFromString("<div>" + html + "</div>", "text/html");
    var fresh = parsed.body.firstChild;
    if (panel.innerHTML.trim() === fresh.innerHTML.trim()) {
      return; // unchanged: do not make screen readers read it again
    }
    var open = {};
    panel.querySelectorAll("details[open] summary").forEach(function (summary) {
      open[summary.textContent] = true;
    });
    while (panel.firstChild) {
      panel.removeChild(panel.firstChild);
    }
    while (fresh.firstChild) {
      panel.appendChild(fresh.firstChild);
    }
    panel.querySelectorAll("details summary").forEach(function (summary) {
      if (open[summary.textContent]) {
        summary.parentNode.open = true;
      }
    });
  }

  function autosave(form) {
    var url = form.getAttribute("data-autosave");
    var status = form.querySelector("[data-save-status]");
    var revision = form.querySelector("[data-revision]");
    var sequence = form.querySelector("[data-sequence]");
    var panel = document.querySelector("[data-interpretation]");
    var timer = null;
    var inFlight = null;
    var again = false;
    var held = null; // a submit waiting for the save in flight
    var flushed = false; // what the page holds was sent on leaving it

    function say(text, problem) {
      if (status) {
        status.textContent = text;
        status.classList.toggle("warning", Boolean(problem));
      }
    }

    // saved | pending (typed, not yet sent) | saving | failed — for the page and for tests.
    function state(value) {
      form.setAttribute("data-save-state", value);
    }

    // Every save this page sends counts one more: the server keeps the page's latest state
    // whatever order its saves arrive in, and never another window's change silently.
    function countSave() {
      if (sequence) {
        sequence.value = String(Number(sequence.value) + 1);
      }
    }

    function fields() {
      var body = new URLSearchParams(new FormData(form));
      body.delete("action");
      return body;
    }

    function offerOverwrite(message, current) {
      say(message, true);
      var button = document.createElement("button");
      button.type = "button";
      button.className = "secondary";
      button.textContent = "Save my values over the other window's";
      button.addEventListener("click", function () {
        revision.value = String(current);
        save();
      });
      status.appendChild(document.createTextNode(" "));
      status.appendChild(button);
    }

    function save() {
      if (inFlight) {
        again = true;
        return inFlight;
      }
      flushed = false;
      countSave();
      var body = fields();
      say("Saving…", false);
      state("saving");
      inFlight = fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/x-www-form-urlencoded",
          "X-CSRF-Token": form.elements.csrf_token.value,
          "Accept": "application/json"
        },
        body: body.toString()
      }).then(function (response) {
        var type = response.headers.get("content-type") || "";
        if (type.indexOf("application/json") === -1) {
          state("failed");
          say("Not saved: the app answered " + response.status + " (the session may have " +
            "ended). Your values are still on this page; open the app from the EHR again " +
            "to save them.", true);
          return;
        }
        return response.json().then(function (answer) {
          if (response.status === 409 && answer.conflict) {
            state("failed");
            offerOverwrite(answer.conflict, answer.revision);
            return;
          }
          if (!response.ok) {
            state("failed");
            say(answer.error || "Not saved (" + response.status + ").", true);
            return;
          }
          revision.value = String(answer.revision);
          showMessages(form, answer.messages || {});
          if (panel && typeof answer.panel === "string") {
            replacePanel(panel, answer.panel);
          }
          say(answer.saved, false);
          state(timer || again ? "pending" : "saved");
        });
      }).catch(function () {
        state("failed");
        say("Not saved: the app could not be reached. Your values are still on this page; " +
          "they are saved as soon as the connection is back.", true);
      }).then(function () {
        inFlight = null;
        if (again) {
          again = false;
          return save();
        }
        if (held) {
          var submitter = held;
          held = null;
          form.requestSubmit(submitter);
        }
      });
      return inFlight;
    }

    function later() {
      flushed = false;
      state("pending");
      if (timer) {
        clearTimeout(timer);
      }
      timer = setTimeout(function () {
        timer = null;
        save();
      }, SAVE_DELAY_MS);
    }

    // Leaving the page (reload, another page, the EHR closing the frame) with values the
    // server may not have (typing not yet sent, a save under way or failed): send them now,
    // on a request that outlives the page. It names the page's revision and its next count:
    // whether it arrives before or after the save under way, or that save fails, the server
    // keeps this, the page's latest state. A page kept in the back-forward cache reloads its
    // values from the server when shown again.
    function flush() {
      if (flushed || form.getAttribute("data-save-state") === "saved") {
        return;
      }
      flushed = true;
      if (timer) {
        clearTimeout(timer);
        timer = null;
      }
      again = false;
      countSave();
      var text = fields().toString();
      fetch(url, {
        method: "POST",
        credentials: "same-origin",
        // Outlives the page; browsers cap such a request at 64 KiB.
        keepalive: text.length < 60000,
        headers: {
          "Content-Type": "application/x-www-form-urlencoded",
          "X-CSRF-Token": form.elements.csrf_token.value
        },
        body: text
      });
    }

    window.addEventListener("pageshow", function (event) {
      if (event.persisted) {
        window.location.reload(); // back from the cache: show what the server holds now
      }
    });

    window.addEventListener("beforeunload", flush);
    window.addEventListener("pagehide", flush);

    form.addEventListener("input", later);
    form.addEventListener("change", later);
    form.addEventListener("submit", function (event) {
      // A plain post must carry the revision of the last save, so wait for one in flight.
      if (timer || inFlight) {
        event.preventDefault();
        held = event.submitter || form.querySelector("button[type=submit]");
        if (timer) {
          clearTimeout(timer);
          timer = null;
          save();
        }
        return;
      }
      countSave(); // the post is a save of this page too (its fields are read after this)
      flushed = true; // the post carries every value: nothing to send on leaving
    });
    window.addEventListener("online", function () {
      if (status && status.classList.contains("warning")) {
        save();
      }
    });
  }

  function focusErrorSummary() {
    var summary = document.querySelector("[data-error-summary]");
    if (summary) {
      summary.focus();
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    focusErrorSummary();
    var form = document.querySelector("form[data-autosave]");
    if (!form) {
      return;
    }
    fillTimeZone(form);
    moveOnWithEnter(form);
    autosave(form);
  });
})();
