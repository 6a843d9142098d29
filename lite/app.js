// The in-browser notebook's own script, loaded by every app page of the JupyterLite site
// (lite/build.py links it from each index.html, before JupyterLite's own scripts).
//
// 1. Opened from a file (file://), JupyterLite cannot start: the browser refuses its service
//    worker and its requests for its own files, and the tab would stay blank. The page says so
//    instead, and what to do.
// 2. Widget controls keep their keys. In a notebook, the arrow keys move between cells; Lumino,
//    JupyterLab's toolkit, skips its shortcuts for any element marked
//    data-lm-suppress-shortcuts, so a slider or text box inside a widget is marked, for those
//    keys only, before Lumino sees the key (window listeners in the capture phase come first).
// 3. On a phone, the notebook's toolbar keeps the kernel's name and status in sight: it moves
//    what does not fit into a "more" menu from the right, kernel first; the buttons that the
//    Edit menu and the keyboard also offer (cut, copy, paste, cell type) make room instead.
(function () {
  "use strict";

  if (location.protocol === "file:") {
    var shown = function () {
      var at = location.pathname.lastIndexOf("/lite/");
      var path = at >= 0 ? location.pathname.slice(at + 1) : "lite/notebooks/index.html";
      var main = document.createElement("main");
      main.setAttribute("style", "max-width: 40em; margin: 3em auto; padding: 0 1em; " +
        "font: 16px/1.5 system-ui, sans-serif; color: #222; background: #fff");
      var title = document.createElement("h1");
      title.setAttribute("style", "font-size: 1.4em");
      title.textContent = "This notebook runs only when the book is served over HTTP";
      var why = document.createElement("p");
      why.textContent = "You opened the book from a file on disk (file://). A browser does not " +
        "let a page opened that way start Python in the page (JupyterLite needs its files " +
        "served by a web server), so nothing would appear here.";
      var how = document.createElement("p");
      how.appendChild(document.createTextNode("In the book's project folder, run "));
      var command = document.createElement("code");
      command.textContent = "make serve";
      how.appendChild(command);
      how.appendChild(document.createTextNode(" (or any static web server in _build/html), " +
        "then open "));
      var address = "http://127.0.0.1:8000/" + path + location.search;
      var link = document.createElement("a");
      link.href = address;
      link.textContent = address;
      how.appendChild(link);
      how.appendChild(document.createTextNode(". Or use the chapter's Binder or Colab link, " +
        "or run the notebook in Jupyter on your computer."));
      main.append(title, why, how);
      document.title = "Serve the book to run this notebook";
      document.body.replaceChildren(main);
    };
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", shown);
    } else {
      shown();
    }
    return;
  }

  var style = document.createElement("style");
  style.textContent =
    "@media (max-width: 600px) { .jp-NotebookPanel-toolbar :is([data-jp-item-name='cut'], " +
    "[data-jp-item-name='copy'], [data-jp-item-name='paste'], " +
    "[data-jp-item-name='cellType']) { display: none !important; } }";
  document.head.appendChild(style);

  var KEYS = ["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End", "PageUp",
    "PageDown"];
  var CONTROLS = ".jupyter-widgets .noUi-handle, .jupyter-widgets input, " +
    ".jupyter-widgets select, .jupyter-widgets textarea";
  window.addEventListener(
    "keydown",
    function (event) {
      var target = event.target;
      if (!(target instanceof Element) || !target.matches(CONTROLS)) {
        return;
      }
      if (KEYS.indexOf(event.key) >= 0) {
        target.setAttribute("data-lm-suppress-shortcuts", "");
      } else {
        target.removeAttribute("data-lm-suppress-shortcuts"); // Escape, Shift+Enter: Jupyter's
      }
    },
    true,
  );
})();
