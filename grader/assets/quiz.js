// Knowledge checks (`{{#quiz NAME}}`): marks answers in the browser, shows why each chosen
// answer is right or wrong, and keeps the learner's answers in localStorage, per quiz.
(function () {
  "use strict";

  var PREFIX = "fargate-course.quiz.";

  function load(name) {
    try {
      return JSON.parse(window.localStorage.getItem(PREFIX + name) || "{}") || {};
    } catch (e) {
      return {};
    }
  }

  function save(name, state) {
    try {
      window.localStorage.setItem(PREFIX + name, JSON.stringify(state));
    } catch (e) {
      // Storage may be off (private mode, file:// in some browsers): marking still works.
    }
  }

  function answers(form) {
    return Array.prototype.slice.call(form.querySelectorAll(".quiz-answer"));
  }

  // Marks one question from the chosen answer indices; returns whether it is right.
  function mark(form, chosen) {
    var right = true;
    answers(form).forEach(function (answer) {
      var index = Number(answer.getAttribute("data-answer"));
      var correct = answer.getAttribute("data-correct") === "true";
      var picked = chosen.indexOf(index) !== -1;
      answer.querySelector("input").checked = picked;
      answer.classList.remove("quiz-right", "quiz-wrong", "quiz-missed");
      if (picked !== correct) right = false;
      if (picked && correct) answer.classList.add("quiz-right");
      if (picked && !correct) answer.classList.add("quiz-wrong");
      if (!picked && correct && form.getAttribute("data-multiple") === "true") answer.classList.add("quiz-missed");
      // Explanations for what was picked; the right answers' too, once it is right.
      answer.querySelector(".quiz-why").hidden = !picked;
    });
    // A second pass: `right` is only known once every answer was seen.
    answers(form).forEach(function (answer) {
      if (right && answer.getAttribute("data-correct") === "true") answer.querySelector(".quiz-why").hidden = false;
    });
    var feedback = form.querySelector(".quiz-feedback");
    feedback.textContent = right ? "Correct." : "Not quite: read why below, then try again.";
    feedback.className = "quiz-feedback " + (right ? "quiz-feedback-right" : "quiz-feedback-wrong");
    form.setAttribute("data-result", right ? "right" : "wrong");
    return right;
  }

  function score(section, state) {
    var total = section.querySelectorAll(".quiz-question").length;
    var answered = 0;
    var right = 0;
    Object.keys(state).forEach(function (key) {
      answered += 1;
      if (state[key].right) right += 1;
    });
    var text = answered === 0
      ? total + " questions. Your answers stay in this browser."
      : right + " of " + total + " answered correctly" + (answered > right ? " (" + (answered - right) + " to try again)" : "") + ".";
    section.querySelector(".quiz-score").textContent = text;
  }

  function setUp(section) {
    var name = section.getAttribute("data-quiz");
    var state = load(name);
    section.querySelectorAll(".quiz-question").forEach(function (form) {
      var key = form.getAttribute("data-question");
      if (state[key]) mark(form, state[key].chosen || []);
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var chosen = [];
        form.querySelectorAll("input:checked").forEach(function (input) {
          chosen.push(Number(input.value));
        });
        var feedback = form.querySelector(".quiz-feedback");
        if (chosen.length === 0) {
          feedback.textContent = "Pick an answer first.";
          feedback.className = "quiz-feedback";
          return;
        }
        state[key] = { chosen: chosen, right: mark(form, chosen) };
        save(name, state);
        score(section, state);
      });
    });
    score(section, state);
  }

  function start() {
    document.querySelectorAll("section.quiz[data-quiz]").forEach(setUp);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
