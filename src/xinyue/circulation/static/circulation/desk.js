// The desk pages: the scanner's input keeps the focus, so the next scan always lands in it.
document.addEventListener("DOMContentLoaded", () => {
  const input = document.querySelector("form[data-keep-focus] input.scan");
  if (!input) return;
  input.focus();
  document.addEventListener("click", (event) => {
    if (!event.target.closest("a, button, input, select, textarea")) input.focus();
  });
  window.addEventListener("focus", () => input.focus());
});
