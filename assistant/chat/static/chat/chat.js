// Keeps the newest message in sight above the input box, which stays at the bottom of the screen:
// as a message is added or a reply streams in, and when a conversation is opened again.
(function () {
  const thread = document.getElementById("thread");
  const say = document.querySelector("form.say");
  if (!thread || !say) return;
  const GAP = 8;

  function measure() {
    thread.style.setProperty("--say-height", say.offsetHeight + "px");
  }

  function reveal() {
    const last = thread.lastElementChild;
    if (!last) return;
    const hidden = last.getBoundingClientRect().bottom + GAP - say.getBoundingClientRect().top;
    if (hidden > 0) window.scrollBy(0, hidden);
  }

  measure();
  new ResizeObserver(measure).observe(say);
  new MutationObserver(function (records) {
    const last = thread.lastElementChild;
    if (records.some((r) => r.target === thread || (last && last.contains(r.target)))) reveal();
  }).observe(thread, { childList: true, subtree: true, characterData: true });
  reveal();
})();
