/* Live length counts for post texts, as X weighs them (progressive enhancement).
 *
 * Every <textarea data-count="ID"> (and the topic box of the queue form) gets a count
 * in the element with that id, updated as the host types. A question box counts the
 * whole post it becomes (the series' question template around the question); a box
 * with data-plain counts its own text. The form's data-counter attribute carries the
 * series' templates and field values (bot/web/chat_form.counter_fields).
 *
 * This follows twitter-text's rules approximately: links count 23, emoji 2, and
 * characters outside the Latin, Greek, Cyrillic and similar ranges (CJK, say) 2.
 * The server's check (twitter-text itself) on Preview or Save is the authority.
 * Without JavaScript the pages work the same, without live counts.
 */
(function () {
  "use strict";

  var LINK = /\bhttps?:\/\/[^\s]+|\bwww\.[^\s]+/gi;
  var EMOJI = /\p{Extended_Pictographic}(?:\uFE0F|\u200D\p{Extended_Pictographic}|\p{Emoji_Modifier})*|[\u{1F1E6}-\u{1F1FF}]{2}/gu;

  function light(code) {
    return code <= 0x10FF || (code >= 0x2000 && code <= 0x200D) ||
      (code >= 0x2010 && code <= 0x201F) || (code >= 0x2032 && code <= 0x2037);
  }

  function weightedLength(text) {
    var total = 0;
    var rest = text.normalize("NFC")
      .replace(LINK, function () { total += 23; return ""; })
      .replace(EMOJI, function () { total += 2; return ""; });
    for (var ch of rest) {
      total += light(ch.codePointAt(0)) ? 1 : 2;
    }
    return total;
  }

  function escapeRegExp(text) {
    return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }

  function hasHashtag(text, hashtag) {
    var pattern = new RegExp("(^|[^\\p{L}\\p{N}_#])" + escapeRegExp(hashtag) + "(?![\\p{L}\\p{N}_])", "iu");
    return pattern.test(text);
  }

  /* Fill in a template as bot/thread_text.render does: {hashtag} is left out when the
     rest of the post already carries the hashtag. */
  function render(template, values) {
    var slot = "\u0000";
    var text = template.replace(/\{(\w+)\}/g, function (whole, name) {
      if (name === "hashtag") { return slot; }
      return Object.prototype.hasOwnProperty.call(values, name) ? values[name] : whole;
    }).replace(/\{\{/g, "{").replace(/\}\}/g, "}");
    var hashtag = values.hashtag || "";
    if (hasHashtag(text.split(slot).join(""), hashtag)) {
      text = text.replace(/[ \t]*\u0000/g, "");
    } else {
      text = text.split(slot).join(hashtag);
    }
    return text.trim();
  }

  function show(output, label, length, max) {
    output.textContent = label + length + "/" + max + (length > max ? ": too long by " + (length - max) : "");
    output.classList.toggle("over", length > max);
  }

  function setUpChatForm(form) {
    var config = JSON.parse(form.getAttribute("data-counter"));
    var topic = form.querySelector("#topic");
    var topicCount = form.querySelector("#topic-count");
    var boxes = Array.prototype.slice.call(form.querySelectorAll("textarea[name=question]"));

    function values(extra) {
      var all = Object.assign({}, config.values, { topic: topic ? topic.value.trim() : "" });
      return Object.assign(all, extra);
    }

    function update() {
      var n = 0;
      boxes.forEach(function (box) {
        var output = document.getElementById(box.getAttribute("data-count"));
        var question = box.value.trim();
        if (!output) { return; }
        if (!question) { output.textContent = ""; output.classList.remove("over"); return; }
        n += 1;
        var text = render(config.templates.question, values({ n: String(n), question: question }));
        show(output, "Posted as Q" + n + ": ", weightedLength(text), config.max);
      });
      if (topicCount && topic && topic.value.trim()) {
        var intro = weightedLength(render(config.templates.intro, values({})));
        var closing = weightedLength(render(config.templates.closing, values({})));
        var longest = Math.max(intro, closing);
        show(topicCount, "Intro post " + intro + "/" + config.max + ", closing post ", closing, config.max);
        topicCount.classList.toggle("over", longest > config.max);
      } else if (topicCount) {
        topicCount.textContent = "";
      }
    }

    form.addEventListener("input", update);
    update();
  }

  function setUpPlain(box) {
    var output = document.getElementById(box.getAttribute("data-count"));
    if (!output) { return; }
    function update() { show(output, "", weightedLength(box.value.trim()), 280); }
    box.addEventListener("input", update);
    update();
  }

  document.querySelectorAll("form[data-counter]").forEach(setUpChatForm);
  document.querySelectorAll("textarea[data-plain][data-count]").forEach(setUpPlain);
}());
