// The book's script on every page (html_js_files in _config.yml; deferred by _ext/d2l_site).
//
// Keyboard access to what scrolls sideways. The theme gives code blocks and tables a tab
// stop when they overflow, so that a keyboard can scroll them (WCAG 2.1.1); do the same for
// the other boxes that scroll with a hint (static/d2l.css): wide formulas and figures, and
// the tables of the widgets. A ResizeObserver reports each box once it is laid out (and
// again when its size changes), so this never forces a layout of the page: sections below
// the first screen are laid out only when they come near it (content-visibility in d2l.css).
(function () {
  "use strict";
  var SCROLLERS = [
    ".bd-content div.math mjx-container",
    ".bd-content figure",
    ".bd-content .d2l-table-scroll",
  ].join(", ");
  if (!("ResizeObserver" in window)) {
    return;
  }
  var watched = new WeakSet();
  var resizes = new ResizeObserver(function (entries) {
    entries.forEach(function (entry) {
      var element = entry.target;
      var scrolls = element.scrollWidth > element.clientWidth + 1;
      if (scrolls && element.tabIndex < 0) {
        element.tabIndex = 0;
      } else if (!scrolls && element.hasAttribute("tabindex")) {
        element.removeAttribute("tabindex");
      }
    });
  });

  function watch() {
    document.querySelectorAll(SCROLLERS).forEach(function (element) {
      if (!watched.has(element)) {
        watched.add(element);
        resizes.observe(element);
      }
    });
  }

  function start() {
    watch();
    var main = document.getElementById("main-content");
    if (main) {
      new MutationObserver(watch).observe(main, { subtree: true, childList: true });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

// A header button's tooltip (Bootstrap's, shown on hover and focus) stays where it appeared
// while the page scrolls under the sticky header; on a phone, where a tap leaves the button
// focused and "hovered", it stayed pinned there. Scrolling closes it, as Bootstrap closes
// it when the pointer or the focus leaves its button.
(function () {
  "use strict";
  window.addEventListener(
    "scroll",
    function () {
      document.querySelectorAll(".tooltip[id]").forEach(function (tip) {
        var owner = document.querySelector('[aria-describedby="' + tip.id + '"]');
        if (owner) {
          // Bootstrap listens to mouseout (as its mouseleave) and focusout.
          owner.dispatchEvent(new MouseEvent("mouseout", { relatedTarget: document.body }));
          owner.dispatchEvent(new FocusEvent("focusout"));
        }
      });
    },
    { passive: true },
  );
})();
